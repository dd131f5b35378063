/*
 * sim_timer — lets a libmicrohttpd connection wait (for a TTFT or the next
 * paced token) without holding a worker thread: the connection is suspended
 * and one timer thread resumes it at its deadline.
 *
 * Promises:
 *  - every suspended connection is resumed exactly once, at or shortly after
 *    its deadline, or at shutdown;
 *  - after sim_timer_shutdown no connection stays suspended, which is what
 *    MHD_stop_daemon requires; later waits are refused instead.
 */
#ifndef SIM_TIMER_H
#define SIM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct MHD_Connection;
typedef struct sim_timer sim_timer;

/* Monotonic clock in nanoseconds; the time base of every deadline. */
uint64_t sim_clock_now(void);

/* NULL if the thread could not be started. */
sim_timer *sim_timer_start(void);

/*
 * Call only from an MHD access handler or content reader. Returns true when
 * the connection is suspended and will be resumed (at deadline, or sooner if
 * shutdown starts meanwhile): return without a response / with 0 bytes and
 * expect to be called again. Returns false once shutdown has begun: the
 * connection was left running and the caller must finish without waiting.
 */
bool sim_timer_suspend_until(sim_timer *timer,
                             struct MHD_Connection *connection,
                             uint64_t deadline);

/* Resumes everything waiting and refuses new waits; idempotent. */
void sim_timer_shutdown(sim_timer *timer);

/* Shuts down if needed, joins the thread, frees. */
void sim_timer_destroy(sim_timer *timer);

#endif
