// SPDX-License-Identifier: MIT
/*
 * A C++ program whose exceptions pass through traced functions
 * (selftests/cli_unwind.sh): `ftramp run -t 'uw_*'` must change neither
 * its output nor its exit status.  uw_parse throws from below for bad
 * input; uw_step calls it and lets the exception through; main catches.
 * With a second argument "v", the same through uw_vstep and uw_vparse,
 * variadic: the unknown model, traced with a return hook.
 */
#include <cstdarg>
#include <cstdio>
#include <stdexcept>
#include <string>

#define NOIPA __attribute__((noipa))

extern "C" {

NOIPA int uw_check(int v)
{
	if (v % 3 == 0)
		throw std::invalid_argument("multiple of 3: " +
					    std::to_string(v));
	return v * 2;
}

NOIPA long uw_parse(int v, long acc)
{
	return acc + uw_check(v);
}

NOIPA long uw_step(int v, long acc)
{
	return uw_parse(v, acc) + 1;
}

NOIPA long uw_vparse(int v, ...)
{
	va_list ap;
	long acc;

	va_start(ap, v);
	acc = va_arg(ap, long);
	va_end(ap);
	return acc + uw_check(v);
}

NOIPA long uw_vstep(int v, ...)
{
	va_list ap;
	long acc;

	va_start(ap, v);
	acc = va_arg(ap, long);
	va_end(ap);
	return uw_vparse(v, acc) + 1;
}

}

int main(int argc, char **argv)
{
	int n = argc > 1 ? std::stoi(argv[1]) : 10;
	bool hooked = argc > 2 && std::string(argv[2]) == "v";
	long acc = 0;
	int caught = 0;

	for (int i = 1; i <= n; i++) {
		try {
			acc = hooked ? uw_vstep(i, acc) : uw_step(i, acc);
		} catch (const std::exception &e) {
			caught++;
			std::printf("caught: %s (acc %ld)\n", e.what(), acc);
		}
	}
	std::printf("acc %ld, %d caught\n", acc, caught);
	return caught == n / 3 ? 3 : 1;
}
