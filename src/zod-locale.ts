// Every schema in the project uses zod/mini, the functional API (`z.pipe(a, b)` rather than
// `a.pipe(b)`), imported as `import * as z from 'zod/mini'` (a namespace import the bundler can
// tree-shake: only what is used is kept, ~50 KB with the English messages, instead of ~750 KB that cost
// the CLI ~30 ms of start-up; re-exporting the namespace from a module of ours would keep all of it).
//
// zod/mini loads no locale: without the English one, every zod message (an empty --input: "Too small:
// expected string to have >=1 characters"; a bad history line: "expected number, received string")
// would be "Invalid input". The classic API sets the same default. Imported for this side effect by the
// modules that report zod's messages. (`en` by name: `z.locales.en` would bundle every locale.)
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());
