#!/usr/bin/env node
/**
 * The command's entry point. The build bundles it with everything it imports into one file,
 * lib/sysbox-runc.js, because Docker starts this command three times per container and loading
 * dozens of module files costs more than the work most commands do.
 */
import { main } from './main';

main(process.argv).then((code) => process.exit(code));
