/* Fault injection for tests: fault.panic crashes the guest kernel through sysrq, fault.hang
 * freezes it. */
#ifndef BATON_FAULTS_H
#define BATON_FAULTS_H

/* Writes SYSRQ_CRASH_COMMAND to root/proc/sysrq-trigger. In a guest this does not return. */
void trigger_panic(const char *root);

/* Waits FAULT_HANG_DELAY_MS, then writes "freeze" to root/sys/power/state (suspend-to-idle;
 * in a guest nothing runs until a wakeup that never comes). Returns if the write succeeded
 * (the guest woke up, or a test fixture took it); otherwise never returns: the agent stops
 * answering and heartbeating. */
void trigger_hang(const char *root);

#endif
