#!/usr/bin/env node
// planner-deploy, as installed from the package: checks the Node version first, then runs the bundled CLI
// (dist/index.js, built when the package is packed). Kept to syntax any Node since 14 parses, so that an old
// Node on PATH gets this message rather than a syntax or module error from the bundle.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(
    'planner-deploy needs Node.js ' +
      REQUIRED_MAJOR +
      ' or newer, and the node on PATH (' +
      process.execPath +
      ') is ' +
      process.version +
      '.\nInstall Node.js ' +
      REQUIRED_MAJOR +
      ' (https://nodejs.org, or nvm install ' +
      REQUIRED_MAJOR +
      ') and put it first on PATH.\n',
  );
  process.exit(1);
}
import('../dist/index.js').catch((error) => {
  process.stderr.write(
    'planner-deploy could not start: ' + (error && error.stack ? error.stack : error) + '\n',
  );
  process.exit(1);
});
