// SPDX-License-Identifier: MIT
/*
 * Direct calls: the kernel's register_ftrace_direct(),
 * modify_ftrace_direct() and unregister_ftrace_direct() for the sites of
 * this process (Documentation/design.rst, "Direct calls").
 *
 * A direct ops is an ftrace ops with no handler and a trampoline address.
 * Where it is alone on a site and its trampoline is within BL range, the
 * site is `bl tramp`; otherwise the site goes through ftrace_caller, which
 * finds the address in the ops' call record (alone) or runs the other
 * ops' handlers first and then branches there (shared).  Modifying the
 * target is then either `bl old -> bl new` (one concurrently modifiable
 * word) or one 64-bit store to the record: no call ever reaches neither.
 */
#include <errno.h>

#include "ftrace/ftrace.h"
#include "ftrace/reclaim.h"

static int direct_check(struct ftramp_ftrace_ops *ops, uint64_t addr)
{
	if (!ops || ops->func || !addr || (addr & 3) ||
	    (ops->flags & ~FTRAMP_FTRACE_OPS_FL_ALL))
		return -EINVAL;
	return 0;
}

FTRAMP_API int ftramp_direct__register(struct ftramp_ftrace_ops *ops,
				       uint64_t addr)
{
	int err = direct_check(ops, addr);

	if (err)
		return err;
	pthread_mutex_lock(&ftrace_lock);
	err = ftrace_register_locked(ops, addr);
	pthread_mutex_unlock(&ftrace_lock);
	reclaim_poll();
	return err;
}

FTRAMP_API int ftramp_direct__modify(struct ftramp_ftrace_ops *ops,
				     uint64_t addr)
{
	uint64_t old;
	int err = direct_check(ops, addr);

	if (err)
		return err;
	pthread_mutex_lock(&ftrace_lock);
	if (!ops->priv || !ops->priv->cur.registered ||
	    !ops->priv->cur.direct) {
		err = -EINVAL;
	} else {
		old = ops->priv->cur.direct;
		err = ftrace_modify_locked(ops, addr);
		/*
		 * The old trampoline is the caller's: ftramp_sync() then
		 * covers the threads between a site and its first
		 * instruction.
		 */
		if (!err && old != addr)
			reclaim_retire(RECLAIM_MARK, NULL, old, old + 4,
				       NULL, NULL);
	}
	pthread_mutex_unlock(&ftrace_lock);
	reclaim_poll();
	return err;
}

FTRAMP_API int ftramp_direct__unregister(struct ftramp_ftrace_ops *ops,
					 uint64_t addr)
{
	int64_t seq, mark = 0;
	int err = direct_check(ops, addr);

	if (err)
		return err;
	pthread_mutex_lock(&ftrace_lock);
	if (!ops->priv || !ops->priv->cur.registered ||
	    ops->priv->cur.direct != addr) {
		seq = -EINVAL;
	} else {
		seq = ftrace_unregister_locked(ops);
		if (seq > 0)
			mark = (int64_t)reclaim_retire(RECLAIM_MARK, NULL, addr,
						       addr + 4, NULL, NULL);
	}
	pthread_mutex_unlock(&ftrace_lock);
	if (seq < 0)
		return (int)seq;
	/*
	 * As ftramp_ftrace_ops__unregister(): the ops is the caller's.
	 * Its own record, and the threads between a site and the
	 * trampoline's first instruction; nothing retired by others.
	 */
	err = seq > 0 ? reclaim_wait_own((uint64_t)seq) : 0;
	if (!err && mark)
		err = reclaim_wait_own((uint64_t)mark);
	return err;
}
