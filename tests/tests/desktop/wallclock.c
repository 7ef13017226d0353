/*
 * LD_PRELOAD shim for the end-to-end tests: moves the wall clock of one process, and only the
 * wall clock, as a suspend does. During a suspend CLOCK_MONOTONIC (which drives every tokio
 * timer) stops while CLOCK_REALTIME keeps going, so after a resume the wall clock is ahead of
 * the monotonic one; Pushmail's resume detector looks for exactly that. No test may change the
 * machine's clock, so the offset lives in this process only.
 *
 * CLOCK_REALTIME readings get the whole seconds written in the file named by
 * $PUSHMAIL_TEST_WALL_OFFSET_FILE added, read on every call (a test moves the clock by
 * replacing the file). No file, or no variable: the real clock.
 *
 * Built by the test with the C compiler Rust already needs for linking:
 *   cc -shared -fPIC -o wallclock.so wallclock.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

/* open/read/close rather than stdio: no allocation, no lock, safe from any thread. */
static long offset_secs(void) {
    const char *path = getenv("PUSHMAIL_TEST_WALL_OFFSET_FILE");
    if (path == NULL) {
        return 0;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    char buf[32] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    /* Looked up once; threads racing on the first call store the same pointer. */
    static clock_gettime_fn cached;
    clock_gettime_fn real = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (real == NULL) {
        real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        if (real == NULL) {
            return -1;
        }
        __atomic_store_n(&cached, real, __ATOMIC_RELAXED);
    }
    int result = real(clock, ts);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec += offset_secs();
    }
    return result;
}
