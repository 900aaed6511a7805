// Entry of the tool shims in ../bin: `node main.mjs <tool> <args…>`.
import { main as bandit } from './bandit.mjs';
import { main as pip } from './pip.mjs';

const [tool = '', ...args] = process.argv.slice(2);
let status;
if (tool === 'pip' || tool === 'pip3') status = pip(tool, args);
else if (tool === 'bandit') status = bandit(args);
else {
  console.error(`tool-stand-ins: no shim named "${tool}"`);
  status = 2;
}
process.exitCode = status;
