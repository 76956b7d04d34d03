// A VM's fault signals (panic, QMP loss, QEMU exit, hang), wired to one callback that fires once per VM incarnation.
import { HangDetector } from '../detect/hang.js';
import { machineProbes } from '../detect/machine-probes.js';
import type { FailoverTrigger } from '../failover/context.js';
import type { Logger } from '../log.js';
import type { PairConfig } from './config.js';
import type { PairVm } from './vm-factory.js';

/**
 * Listens to `vm` for the signals the pair acts on and returns its started hang detector.
 * `onSignal` is called at most once for this incarnation: a dead QEMU closes QMP and exits, two
 * signals of one fault that would otherwise each replace the standby (two fresh QEMUs for one
 * name). `isCurrent` says whether the signal still matters (false for an old incarnation or a
 * planned stop); a signal that does not matter is not counted.
 */
export function watchVmSignals(
  vm: PairVm,
  options: {
    log: Logger;
    hangThresholds: PairConfig['hangThresholds'];
    isCurrent: () => boolean;
    onSignal: (signal: FailoverTrigger['signal']) => void;
  },
): HangDetector {
  const name = vm.machine.spec.name;
  let hasFired = false;
  const fire = (signal: FailoverTrigger['signal']) => {
    if (!options.isCurrent() || hasFired) return;
    hasFired = true;
    options.onSignal(signal);
  };
  vm.machine.qmp.on('event', (event) => {
    if (event.event === 'GUEST_PANICKED') fire('GUEST_PANICKED');
  });
  vm.machine.qmp.on('close', () => fire('qmp-disconnect'));
  void vm.machine.exited.then(() => fire('qemu-exit'));
  const detector = new HangDetector({
    ...machineProbes(vm.machine),
    log: options.log,
    ...(options.hangThresholds === undefined ? {} : { thresholds: options.hangThresholds }),
  });
  detector.on('hang', (hang) => {
    options.log.warn({ vm: name, signals: hang.signals, silenceMs: hang.silenceMs }, 'guest hang declared');
    fire('hang');
  });
  detector.start();
  return detector;
}
