// A fixed set of POSIX threads that run one data-parallel job at a time: job(ctx, t, nt) on
// threads t = 0..nt-1, the caller being thread 0. A caller that finds the pool busy (another
// JavaScript thread of the process is inside a kernel) runs the job alone, as thread 0 of 1.
#ifndef MST_THREAD_POOL_H
#define MST_THREAD_POOL_H

#define POOL_MAX_THREADS 64

typedef void (*pool_job)(void *ctx, int t, int nt);

void pool_run(pool_job job, void *ctx, int threads);
#endif
