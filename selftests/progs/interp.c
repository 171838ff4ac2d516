// SPDX-License-Identifier: MIT
/*
 * interp_prog: a small interpreter, the kind of program ftramp is meant
 * for (selftests/cli_interp.sh).  Built as users build theirs: gcc -O2
 * -g with the patchable entries, so that GCC makes its IPA clones
 * (.isra, .constprop, .part) and cold partitions (.cold) of the static
 * helpers; the test checks that they are there.
 *
 *   interp_prog [ROUNDS]	run the built-in script ROUNDS times (3)
 *
 * A statement language compiled to stack bytecode and run by a VM:
 *
 *	def fib(n) = ?(n < 2, n, fib(n - 1) + fib(n - 2));
 *	let x = 7 * 6;
 *	print x, fib(10), sum(1, 2, 3), max(4, -2);
 *
 * Each statement is compiled and run on its own; a syntax error, an
 * unknown name, a division by zero or a call too deep is reported by the
 * variadic interp_error(), which longjmp()s back to the statement loop:
 * the script goes on with the next statement.  Binary operators go
 * through a table of functions, builtins through a table of callbacks,
 * and bytes are emitted by the variadic emit().
 *
 * Prints what the script prints, the errors it recovered from and, last,
 * how many times some functions ran by its own count, so that a tracer's
 * counts can be checked against it.  The output is the same traced or not.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODE	512
#define MAX_CONSTS	64
#define MAX_VARS	32
#define MAX_FUNCS	16
#define MAX_STACK	256
#define MAX_DEPTH	48
#define MAX_NAME	16

enum op {
	OP_CONST, OP_LOAD, OP_STORE, OP_ARG, OP_BIN, OP_NEG, OP_CALL,
	OP_BUILTIN, OP_JZ, OP_JMP, OP_PRINT, OP_POP, OP_RET, OP_HALT,
};

enum bin { B_ADD, B_SUB, B_MUL, B_DIV, B_MOD, B_LT, B_GT, B_EQ, NR_BIN };

struct chunk {
	unsigned char code[MAX_CODE];
	int len;
	long consts[MAX_CONSTS];
	int nconsts;
};

struct func {
	char name[MAX_NAME];
	char params[4][MAX_NAME];
	int nparams;
	struct chunk body;
};

struct vm {
	char vars[MAX_VARS][MAX_NAME];
	long values[MAX_VARS];
	int nvars;
	struct func funcs[MAX_FUNCS];
	int nfuncs;
	long stack[MAX_STACK];
	int sp;
	int depth;
	jmp_buf recover;
	int errors;
};

struct parser {
	const char *src;
	const char *p;
	struct vm *vm;
	struct chunk *c;
	struct func *in_func;	/* compiling a def: its parameters */
};

/* The program's own counts, printed last. */
static unsigned long n_run, n_error, n_builtin, n_stmt;

/* cold: the paths that call it move to their functions' .cold parts */
void interp_error(struct vm *vm, const char *fmt, ...)
	__attribute__((noreturn, cold, format(printf, 2, 3)));
int emit(struct chunk *c, int n, ...);
long vm_run(struct vm *vm, const struct chunk *c, const long *args);
int run_statement(struct vm *vm, const char *text);

/* ------------------------------------------------------------------ */
/* Errors                                                              */

void interp_error(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	n_error++;
	vm->errors++;
	printf("error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	longjmp(vm->recover, 1);
}

/* ------------------------------------------------------------------ */
/* Bytecode                                                            */

int emit(struct chunk *c, int n, ...)
{
	va_list ap;
	int at = c->len;

	if (c->len + n > MAX_CODE)
		return -1;
	va_start(ap, n);
	while (n--)
		c->code[c->len++] = (unsigned char)va_arg(ap, int);
	va_end(ap);
	return at;
}

/* Always called with the same vm for the error: a .constprop candidate. */
static __attribute__((noinline)) int add_const(struct vm *vm,
					       struct chunk *c, long v)
{
	int i;

	for (i = 0; i < c->nconsts; i++)
		if (c->consts[i] == v)
			return i;
	if (c->nconsts == MAX_CONSTS)
		interp_error(vm, "too many constants");
	c->consts[c->nconsts] = v;
	return c->nconsts++;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

/*
 * A hit on the last name found is the common case, inlined into the
 * callers; the search is split off (GCC's partial inlining: .part).
 */
static int last_var = -1;

static int find_var(struct vm *vm, const char *name, int create)
{
	int i;

	if (last_var >= 0 && last_var < vm->nvars &&
	    !strcmp(vm->vars[last_var], name))
		return last_var;
	for (i = 0; i < vm->nvars; i++) {
		if (!strcmp(vm->vars[i], name)) {
			last_var = i;
			return i;
		}
	}
	if (!create)
		return -1;
	if (vm->nvars == MAX_VARS)
		interp_error(vm, "too many variables");
	snprintf(vm->vars[vm->nvars], MAX_NAME, "%s", name);
	vm->values[vm->nvars] = 0;
	last_var = vm->nvars;
	return vm->nvars++;
}

static __attribute__((noinline)) int find_func(struct vm *vm, const char *name)
{
	int i;

	for (i = 0; i < vm->nfuncs; i++)
		if (!strcmp(vm->funcs[i].name, name))
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Builtins: a table of callbacks                                      */

static long bi_abs(const long *a, int n)
{
	return a[0] < 0 ? -a[0] : a[0];
}

static long bi_min(const long *a, int n)
{
	long m = a[0];

	for (int i = 1; i < n; i++)
		m = a[i] < m ? a[i] : m;
	return m;
}

static long bi_max(const long *a, int n)
{
	long m = a[0];

	for (int i = 1; i < n; i++)
		m = a[i] > m ? a[i] : m;
	return m;
}

static long bi_sum(const long *a, int n)
{
	long s = 0;

	for (int i = 0; i < n; i++)
		s += a[i];
	return s;
}

static const struct builtin {
	const char *name;
	int min_args;
	long (*fn)(const long *args, int n);
} builtins[] = {
	{ "abs", 1, bi_abs }, { "min", 1, bi_min },
	{ "max", 1, bi_max }, { "sum", 0, bi_sum },
};

#define NR_BUILTINS	(int)(sizeof(builtins) / sizeof(builtins[0]))

/* ------------------------------------------------------------------ */
/* Binary operators: a table of functions                              */

static long op_add(struct vm *vm, long a, long b) { return a + b; }
static long op_sub(struct vm *vm, long a, long b) { return a - b; }
static long op_mul(struct vm *vm, long a, long b) { return a * b; }
static long op_lt(struct vm *vm, long a, long b) { return a < b; }
static long op_gt(struct vm *vm, long a, long b) { return a > b; }
static long op_eq(struct vm *vm, long a, long b) { return a == b; }

static long op_div(struct vm *vm, long a, long b)
{
	if (__builtin_expect(b == 0, 0))
		interp_error(vm, "division by zero (%ld / 0)", a);
	return a / b;
}

static long op_mod(struct vm *vm, long a, long b)
{
	if (__builtin_expect(b == 0, 0))
		interp_error(vm, "division by zero (%ld %% 0)", a);
	return a % b;
}

static long (*const binops[NR_BIN])(struct vm *, long, long) = {
	[B_ADD] = op_add, [B_SUB] = op_sub, [B_MUL] = op_mul,
	[B_DIV] = op_div, [B_MOD] = op_mod, [B_LT] = op_lt,
	[B_GT] = op_gt, [B_EQ] = op_eq,
};

/* ------------------------------------------------------------------ */
/* The VM                                                              */

static void push(struct vm *vm, long v)
{
	if (__builtin_expect(vm->sp == MAX_STACK, 0))
		interp_error(vm, "value stack full");
	vm->stack[vm->sp++] = v;
}

static long pop(struct vm *vm)
{
	return vm->stack[--vm->sp];
}

/* Its unused operand count is dropped by IPA-SRA: .isra. */
static __attribute__((noinline)) long call_builtin(struct vm *vm, int id,
						   int nargs, int unused)
{
	long args[8];
	int i;

	n_builtin++;
	if (nargs < builtins[id].min_args)
		interp_error(vm, "%s: needs %d arguments, has %d",
			     builtins[id].name, builtins[id].min_args, nargs);
	for (i = nargs - 1; i >= 0; i--)
		args[i] = pop(vm);
	return builtins[id].fn(args, nargs);
}

long vm_run(struct vm *vm, const struct chunk *c, const long *args)
{
	int pc = 0;

	n_run++;
	if (++vm->depth > MAX_DEPTH)
		interp_error(vm, "calls nested deeper than %d", MAX_DEPTH);
	for (;;) {
		int op = c->code[pc++];
		int a = pc < c->len ? c->code[pc] : 0;
		long x, y;

		switch (op) {
		case OP_CONST:
			push(vm, c->consts[a]);
			pc++;
			break;
		case OP_LOAD:
			push(vm, vm->values[a]);
			pc++;
			break;
		case OP_STORE:
			vm->values[a] = vm->stack[vm->sp - 1];
			pc++;
			break;
		case OP_ARG:
			push(vm, args[a]);
			pc++;
			break;
		case OP_BIN:
			y = pop(vm);
			x = pop(vm);
			push(vm, binops[a](vm, x, y));
			pc++;
			break;
		case OP_NEG:
			push(vm, -pop(vm));
			break;
		case OP_CALL: {
			const struct func *f = &vm->funcs[a];
			long fa[4];
			int i;

			for (i = f->nparams - 1; i >= 0; i--)
				fa[i] = pop(vm);
			push(vm, vm_run(vm, &f->body, fa));
			pc++;
			break;
		}
		case OP_BUILTIN:
			push(vm, call_builtin(vm, a, c->code[pc + 1], 0));
			pc += 2;
			break;
		case OP_JZ:
			pc++;
			if (!pop(vm))
				pc = a;
			break;
		case OP_JMP:
			pc = a;
			break;
		case OP_PRINT:
			for (int i = a; i > 0; i--)
				printf("%ld%s", vm->stack[vm->sp - i],
				       i > 1 ? " " : "\n");
			vm->sp -= a;
			pc++;
			break;
		case OP_POP:
			pop(vm);
			break;
		case OP_RET:
			vm->depth--;
			return pop(vm);
		case OP_HALT:
		default:
			vm->depth--;
			return 0;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The compiler: recursive descent straight to bytecode                */

static void skip_space(struct parser *p)
{
	while (isspace((unsigned char)*p->p))
		p->p++;
}

static int accept(struct parser *p, const char *tok)
{
	size_t n = strlen(tok);

	skip_space(p);
	if (strncmp(p->p, tok, n))
		return 0;
	p->p += n;
	return 1;
}

/*
 * Where the parser is, for messages: both fields it reads are passed
 * instead of the pointer (IPA-SRA: .isra).
 */
static __attribute__((noinline)) int offset_of(const struct parser *p)
{
	return (int)(p->p - p->src);
}

/* Always called with the same message shape: .constprop. */
static __attribute__((noinline)) void expect(struct parser *p, const char *tok,
					     const char *where)
{
	if (!accept(p, tok))
		interp_error(p->vm, "expected '%s' %s at offset %d", tok, where,
			     offset_of(p));
}

static int ident(struct parser *p, char *out)
{
	int n = 0;

	skip_space(p);
	if (!isalpha((unsigned char)*p->p))
		return 0;
	while (isalnum((unsigned char)*p->p) || *p->p == '_') {
		if (n < MAX_NAME - 1)
			out[n++] = *p->p;
		p->p++;
	}
	out[n] = 0;
	return 1;
}

static void parse_expr(struct parser *p);

static int parse_args(struct parser *p)
{
	int n = 0;

	if (accept(p, ")"))
		return 0;
	do {
		parse_expr(p);
		n++;
	} while (accept(p, ","));
	expect(p, ")", "after the arguments");
	return n;
}

static void parse_call(struct parser *p, const char *name)
{
	int n = parse_args(p), f, i;

	f = find_func(p->vm, name);
	if (f >= 0) {
		if (n != p->vm->funcs[f].nparams)
			interp_error(p->vm, "%s takes %d arguments, not %d",
				     name, p->vm->funcs[f].nparams, n);
		emit(p->c, 2, OP_CALL, f);
		return;
	}
	for (i = 0; i < NR_BUILTINS; i++) {
		if (!strcmp(builtins[i].name, name)) {
			emit(p->c, 3, OP_BUILTIN, i, n);
			return;
		}
	}
	interp_error(p->vm, "no function %s", name);
}

static void parse_name(struct parser *p, const char *name)
{
	int i;

	if (accept(p, "(")) {
		parse_call(p, name);
		return;
	}
	if (p->in_func) {
		for (i = 0; i < p->in_func->nparams; i++) {
			if (!strcmp(p->in_func->params[i], name)) {
				emit(p->c, 2, OP_ARG, i);
				return;
			}
		}
	}
	i = find_var(p->vm, name, 0);
	if (i < 0)
		interp_error(p->vm, "no variable %s", name);
	emit(p->c, 2, OP_LOAD, i);
}

/* ?(cond, then, else): only one branch runs. */
static void parse_cond(struct parser *p)
{
	int jz, jmp;

	expect(p, "(", "after ?");
	parse_expr(p);
	expect(p, ",", "after the condition");
	jz = emit(p->c, 2, OP_JZ, 0);
	parse_expr(p);
	expect(p, ",", "after the first branch");
	jmp = emit(p->c, 2, OP_JMP, 0);
	p->c->code[jz + 1] = (unsigned char)p->c->len;
	parse_expr(p);
	expect(p, ")", "after the second branch");
	p->c->code[jmp + 1] = (unsigned char)p->c->len;
}

static void parse_primary(struct parser *p)
{
	char name[MAX_NAME];
	char *end;
	long v;

	skip_space(p);
	if (isdigit((unsigned char)*p->p)) {
		v = strtol(p->p, &end, 10);
		p->p = end;
		emit(p->c, 2, OP_CONST, add_const(p->vm, p->c, v));
	} else if (accept(p, "(")) {
		parse_expr(p);
		expect(p, ")", "after the expression");
	} else if (accept(p, "?")) {
		parse_cond(p);
	} else if (accept(p, "-")) {
		parse_primary(p);
		emit(p->c, 1, OP_NEG);
	} else if (ident(p, name)) {
		parse_name(p, name);
	} else {
		interp_error(p->vm, "unexpected '%.1s' at offset %d",
			     *p->p ? p->p : "$", offset_of(p));
	}
}

static void parse_term(struct parser *p)
{
	parse_primary(p);
	for (;;) {
		int op = accept(p, "*") ? B_MUL : accept(p, "/") ? B_DIV :
			 accept(p, "%") ? B_MOD : -1;

		if (op < 0)
			return;
		parse_primary(p);
		emit(p->c, 2, OP_BIN, op);
	}
}

static void parse_sum(struct parser *p)
{
	parse_term(p);
	for (;;) {
		int op = accept(p, "+") ? B_ADD : accept(p, "-") ? B_SUB : -1;

		if (op < 0)
			return;
		parse_term(p);
		emit(p->c, 2, OP_BIN, op);
	}
}

static void parse_expr(struct parser *p)
{
	parse_sum(p);
	for (;;) {
		int op = accept(p, "==") ? B_EQ : accept(p, "<") ? B_LT :
			 accept(p, ">") ? B_GT : -1;

		if (op < 0)
			return;
		parse_sum(p);
		emit(p->c, 2, OP_BIN, op);
	}
}

static void parse_def(struct parser *p)
{
	struct vm *vm = p->vm;
	struct func *f;
	char name[MAX_NAME];

	if (!ident(p, name))
		interp_error(vm, "def without a name");
	if (find_func(vm, name) >= 0 || vm->nfuncs == MAX_FUNCS)
		interp_error(vm, "cannot define %s", name);
	f = &vm->funcs[vm->nfuncs];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, MAX_NAME, "%s", name);
	expect(p, "(", "after the function's name");
	if (!accept(p, ")")) {
		do {
			if (f->nparams == 4 || !ident(p, f->params[f->nparams]))
				interp_error(vm, "bad parameter list for %s", name);
			f->nparams++;
		} while (accept(p, ","));
		expect(p, ")", "after the parameters");
	}
	expect(p, "=", "before the body");
	/* Visible to its own body: recursion. */
	vm->nfuncs++;
	p->c = &f->body;
	p->in_func = f;
	parse_expr(p);
	emit(p->c, 1, OP_RET);
}

/* ------------------------------------------------------------------ */
/* Statements                                                          */

/*
 * A digest of what a failed statement left on the value stack (the
 * statement's values are dropped; the digest is printed per round).
 * Nothing is left unless it failed half-way: the cheap test is inlined
 * into the callers, the loops split off (GCC's partial inlining: .part).
 */
static long digest(const long *v, long n, long mul)
{
	long s = 0;

	if (__builtin_expect(!v || n <= 0, 1))
		return 0;
	for (long i = 0; i < n; i++) {
		s += v[i] * mul + (s >> 3);
		if (s > 1000000)
			s %= 9973;
	}
	for (long i = 0; i < n; i++)
		s ^= v[i] << (i & 7);
	return s;
}

static long dropped;

int run_statement(struct vm *vm, const char *text)
{
	struct chunk c = { .len = 0 };
	struct parser p = { .src = text, .p = text, .vm = vm, .c = &c };
	char name[MAX_NAME];
	int nfuncs = vm->nfuncs;

	n_stmt++;
	if (setjmp(vm->recover)) {
		/* a half-made def is dropped; the VM starts afresh */
		vm->nfuncs = nfuncs;
		dropped += digest(vm->stack, vm->sp, 3);
		vm->sp = 0;
		vm->depth = 0;
		return -1;
	}
	if (accept(&p, "def")) {
		parse_def(&p);
		return 0;
	}
	if (accept(&p, "let")) {
		if (!ident(&p, name))
			interp_error(vm, "let without a name");
		expect(&p, "=", "after the variable");
		parse_expr(&p);
		emit(&c, 3, OP_STORE, find_var(vm, name, 1), OP_POP);
	} else if (accept(&p, "print")) {
		int n = 0;

		do {
			parse_expr(&p);
			n++;
		} while (accept(&p, ","));
		emit(&c, 2, OP_PRINT, n);
	} else {
		parse_expr(&p);
		emit(&c, 1, OP_POP);
	}
	skip_space(&p);
	if (*p.p)
		interp_error(vm, "junk after the statement: '%s'", p.p);
	emit(&c, 1, OP_HALT);
	vm_run(vm, &c, NULL);
	dropped += digest(vm->stack, vm->sp, 5);
	vm->sp = 0;
	return 0;
}

static const char script[] =
	"def fib(n) = ?(n < 2, n, fib(n - 1) + fib(n - 2));\n"
	"def gcd(a, b) = ?(b == 0, a, gcd(b, a % b));\n"
	"def fact(n) = ?(n < 2, 1, n * fact(n - 1));\n"
	"def deep(n) = ?(n == 0, 0, 1 + deep(n - 1));\n"
	"def avg3(a, b, c) = (a + b + c) / 3;\n"
	"let x = 7 * 6;\n"
	"let y = x - 50;\n"
	"print x, y, -y, abs(y);\n"
	"print fib(12), gcd(1071, 462), fact(10);\n"
	"print sum(1, 2, 3, 4, 5), sum(), min(9, 3, 7), max(4, -2);\n"
	"print avg3(x, y, fib(7));\n"
	"print x / (y + 8);\n"			/* division by zero */
	"print deep(10);\n"
	"print deep(100);\n"			/* too deep */
	"let z = x +;\n"			/* syntax error */
	"print nosuch(1);\n"			/* unknown function */
	"print w;\n"				/* unknown variable */
	"def fib(n) = n;\n"			/* already defined */
	"print abs();\n"			/* too few arguments */
	"let x = x + 1;\n"
	"print ?(x > 42, fact(5) % 7, 0), x % (x - x);\n"
	"print gcd(fib(20), fib(15)), min(fact(6), 1000);\n";

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 3, r;
	static struct vm vm;
	char stmt[256];

	for (r = 0; r < rounds; r++) {
		const char *s = script;

		memset(&vm, 0, sizeof(vm));
		last_var = -1;
		printf("round %d\n", r);
		while (*s) {
			const char *end = strchr(s, ';');
			size_t n = end ? (size_t)(end - s) : strlen(s);

			if (n >= sizeof(stmt))
				n = sizeof(stmt) - 1;
			memcpy(stmt, s, n);
			stmt[n] = 0;
			s += n + (end != NULL);
			while (*s == '\n')
				s++;
			run_statement(&vm, stmt);
		}
		dropped += digest(vm.stack, vm.sp, 7);
		printf("%d errors, digest of the values dropped %ld\n",
		       vm.errors, dropped);
	}
	printf("counts: run_statement %lu, vm_run %lu, interp_error %lu, builtins %lu\n",
	       n_stmt, n_run, n_error, n_builtin);
	return 0;
}
