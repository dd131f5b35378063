#include "sim_fault.h"

static uint64_t mix(uint64_t value)
{
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
    value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
    return value ^ (value >> 31);
}

/* Uniform in [0, 1): a rate of 1 always hits, a rate of 0 never does. */
static double unit_interval(uint64_t random)
{
    return (double)(random >> 11) * 0x1.0p-53;
}

sim_fault sim_fault_decide(uint64_t seed, uint64_t sequence,
                           const sim_runtime_config *config, bool stream)
{
    /* Independent draws per decision, so changing one rate leaves the others' pattern alone. */
    uint64_t base = seed ^ mix(sequence * 0x9E3779B97F4A7C15ull);
    uint64_t fail_draw = mix(base + 1);
    uint64_t status_draw = mix(base + 2);
    uint64_t cut_draw = mix(base + 3);
    sim_fault fault = {.fail_status = 0, .cut_after = -1};
    if (unit_interval(fail_draw) < config->fail_rate) {
        if (config->fail_status == SIM_FAIL_STATUS_MIXED)
            fault.fail_status = (status_draw & 1) ? 503 : 500;
        else
            fault.fail_status = (unsigned)config->fail_status;
        return fault;
    }
    if (stream && unit_interval(cut_draw) < config->cut_rate)
        fault.cut_after = config->cut_after;
    return fault;
}
