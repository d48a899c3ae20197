// How much CPU does this machine really give two busy processes at once? A virtual machine's
// "2 CPUs" may be one core's worth of time (or a burst budget that runs out), and then the load
// generator and the server share it: the report says so instead of letting it pass unnoticed.
// Each instance spins on HMAC for a while and reports the work done per slice.
import { createHmac } from 'node:crypto';

export const SLICE_MS = 250;

function spin(ms: number): number {
  const end = Date.now() + ms;
  let ops = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 100; i++) createHmac('sha256', 'calibration').update('x').digest('hex');
    ops += 100;
  }
  return ops;
}

process.on('message', (command: { slices: number }) => {
  const slices: number[] = [];
  for (let i = 0; i < command.slices; i++) slices.push(spin(SLICE_MS));
  process.send?.({ slices });
});
process.on('disconnect', () => process.exit(0));
