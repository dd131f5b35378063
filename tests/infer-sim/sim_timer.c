#include "sim_timer.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct waiter {
    uint64_t deadline;
    struct MHD_Connection *connection;
} waiter;

struct sim_timer {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    bool shutting_down;
    waiter *heap; /* min-heap on deadline */
    size_t count;
    size_t capacity;
};

uint64_t sim_clock_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static void swap(waiter *a, waiter *b)
{
    waiter held = *a;
    *a = *b;
    *b = held;
}

static void sift_up(waiter *heap, size_t index)
{
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (heap[parent].deadline <= heap[index].deadline)
            return;
        swap(&heap[parent], &heap[index]);
        index = parent;
    }
}

static void sift_down(waiter *heap, size_t count, size_t index)
{
    for (;;) {
        size_t smallest = index;
        size_t left = 2 * index + 1;
        size_t right = left + 1;
        if (left < count && heap[left].deadline < heap[smallest].deadline)
            smallest = left;
        if (right < count && heap[right].deadline < heap[smallest].deadline)
            smallest = right;
        if (smallest == index)
            return;
        swap(&heap[smallest], &heap[index]);
        index = smallest;
    }
}

static bool push(sim_timer *timer, waiter entry)
{
    if (timer->count == timer->capacity) {
        size_t capacity = timer->capacity ? timer->capacity * 2 : 256;
        waiter *heap = realloc(timer->heap, capacity * sizeof *heap);
        if (heap == NULL)
            return false;
        timer->heap = heap;
        timer->capacity = capacity;
    }
    timer->heap[timer->count] = entry;
    sift_up(timer->heap, timer->count++);
    return true;
}

static waiter pop(sim_timer *timer)
{
    waiter first = timer->heap[0];
    timer->heap[0] = timer->heap[--timer->count];
    sift_down(timer->heap, timer->count, 0);
    return first;
}

static struct timespec to_timespec(uint64_t nanoseconds)
{
    return (struct timespec){
        .tv_sec = (time_t)(nanoseconds / 1000000000u),
        .tv_nsec = (long)(nanoseconds % 1000000000u),
    };
}

/* Resumes outside the lock: MHD takes its own locks in MHD_resume_connection. */
static void *run(void *argument)
{
    sim_timer *timer = argument;
    pthread_mutex_lock(&timer->lock);
    while (!timer->shutting_down) {
        if (timer->count == 0) {
            pthread_cond_wait(&timer->changed, &timer->lock);
            continue;
        }
        uint64_t now = sim_clock_now();
        if (timer->heap[0].deadline > now) {
            struct timespec until = to_timespec(timer->heap[0].deadline);
            pthread_cond_timedwait(&timer->changed, &timer->lock, &until);
            continue;
        }
        waiter due = pop(timer);
        pthread_mutex_unlock(&timer->lock);
        MHD_resume_connection(due.connection);
        pthread_mutex_lock(&timer->lock);
    }
    pthread_mutex_unlock(&timer->lock);
    return NULL;
}

sim_timer *sim_timer_start(void)
{
    sim_timer *timer = calloc(1, sizeof *timer);
    if (timer == NULL)
        return NULL;
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&timer->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_mutex_init(&timer->lock, NULL);
    if (pthread_create(&timer->thread, NULL, run, timer) != 0) {
        pthread_cond_destroy(&timer->changed);
        pthread_mutex_destroy(&timer->lock);
        free(timer);
        return NULL;
    }
    return timer;
}

static bool is_shutting_down(sim_timer *timer)
{
    pthread_mutex_lock(&timer->lock);
    bool result = timer->shutting_down;
    pthread_mutex_unlock(&timer->lock);
    return result;
}

bool sim_timer_suspend_until(sim_timer *timer,
                             struct MHD_Connection *connection,
                             uint64_t deadline)
{
    if (is_shutting_down(timer))
        return false;
    /*
     * Suspend before the entry becomes visible, so the timer can never resume
     * a connection that is not suspended yet. Suspending is not done under
     * our lock to keep lock order trivial (we never hold ours inside MHD's).
     */
    MHD_suspend_connection(connection);
    pthread_mutex_lock(&timer->lock);
    bool queued = !timer->shutting_down &&
                  push(timer, (waiter){.deadline = deadline,
                                       .connection = connection});
    bool wake = queued && timer->heap[0].connection == connection;
    if (wake)
        pthread_cond_signal(&timer->changed);
    pthread_mutex_unlock(&timer->lock);
    /* Shutdown raced us or no memory: resume now; the caller's next call sees it. */
    if (!queued)
        MHD_resume_connection(connection);
    return true;
}

void sim_timer_shutdown(sim_timer *timer)
{
    pthread_mutex_lock(&timer->lock);
    timer->shutting_down = true;
    waiter *pending = timer->heap;
    size_t count = timer->count;
    timer->heap = NULL;
    timer->count = 0;
    timer->capacity = 0;
    pthread_cond_signal(&timer->changed);
    pthread_mutex_unlock(&timer->lock);
    for (size_t i = 0; i < count; i++)
        MHD_resume_connection(pending[i].connection);
    free(pending);
}

void sim_timer_destroy(sim_timer *timer)
{
    if (timer == NULL)
        return;
    sim_timer_shutdown(timer);
    pthread_join(timer->thread, NULL);
    pthread_cond_destroy(&timer->changed);
    pthread_mutex_destroy(&timer->lock);
    free(timer);
}

