#!/usr/bin/env node
// The `weft` command. The build (npm install runs it) puts the CLI in dist/.
import '../dist/cli/main.js';
