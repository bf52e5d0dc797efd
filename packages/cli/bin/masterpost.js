#!/usr/bin/env node
// The published-style entry: TypeScript run through tsx, as every part of the workspace runs.
require('tsx/cjs');
require('../src/main.ts');
