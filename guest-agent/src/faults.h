/* Fault injection for tests: fault.panic crashes the guest kernel through sysrq. */
#ifndef BATON_FAULTS_H
#define BATON_FAULTS_H

/* Writes SYSRQ_CRASH_COMMAND to root/proc/sysrq-trigger. In a guest this does not return. */
void trigger_panic(const char *root);

#endif
