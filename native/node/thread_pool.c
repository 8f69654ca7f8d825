#include "thread_pool.h"
#include <pthread.h>
#include <stdint.h>

static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int started = 1; // threads running, the caller included
static unsigned generation = 0;
static int pending = 0;
static pool_job current_job;
static void *current_ctx;
static int current_nt;

static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  unsigned seen = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&start, &lock);
    seen = generation;
    if (t >= current_nt) continue;
    pool_job job = current_job;
    void *ctx = current_ctx;
    int nt = current_nt;
    pthread_mutex_unlock(&lock);
    job(ctx, t, nt);
    pthread_mutex_lock(&lock);
    if (--pending == 0) pthread_cond_signal(&done);
  }
  return 0;
}

void pool_run(pool_job job, void *ctx, int threads) {
  if (threads > POOL_MAX_THREADS) threads = POOL_MAX_THREADS;
  if (threads <= 1 || pthread_mutex_trylock(&busy) != 0) {
    job(ctx, 0, 1);
    return;
  }
  while (started < threads) {
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&th, &attr, worker, (void *)(intptr_t)started);
    pthread_attr_destroy(&attr);
    if (failed) break;
    started++;
  }
  if (threads > started) threads = started;
  if (threads <= 1) {
    pthread_mutex_unlock(&busy);
    job(ctx, 0, 1);
    return;
  }
  pthread_mutex_lock(&lock);
  current_job = job;
  current_ctx = ctx;
  current_nt = threads;
  pending = threads - 1;
  generation++;
  pthread_cond_broadcast(&start);
  pthread_mutex_unlock(&lock);
  job(ctx, 0, threads);
  pthread_mutex_lock(&lock);
  while (pending > 0) pthread_cond_wait(&done, &lock);
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&busy);
}
