// Each command's options are written once, as a table (one entry per option: flags, help, default, zod
// schema, choices, the report's config key); the commander definition, the validation, the typed values,
// the report's `config` and the documentation (scripts/docs.mjs) all come from it.
//
// Adding an option is one entry in the command's table: `name: option('--name <arg>', 'help', schema, {...})`
// for a value, `flag('--name', 'help')` for a switch, `choice('--name <x>', 'help', CHOICES, {...})` for a
// closed set. Its value is then `values.name`: typed by the schema, null when not given unless it has a
// `default`.
import { InvalidArgumentError, Option, type Command } from 'commander';
import * as z from 'zod/mini';
import { oneOf } from './option-schemas.js';
import { parseOptions } from './parse-options.js';

/** One option of a command. `Always`: whether it always has a value (it has a `default`). */
export interface OptionSpec<T = unknown, Always extends boolean = boolean> {
  /** commander's syntax: `--batch-size <n>`, `--json`. */
  readonly flags: string;
  readonly help: string;
  /** Parses commander's raw value (the text given, or `default` as text; true/false for a switch). */
  readonly schema: z.ZodMiniType<T>;
  /** The value when the option is not given; a number is printed unquoted and parsed like given text. */
  readonly default?: string | number | boolean;
  /** Says what happens when the option is not given and there is no fixed default (the value is then null). */
  readonly defaultText?: string;
  readonly choices?: readonly string[];
  /** The key of the report's `config` that records this option (absent: not recorded). */
  readonly config?: string;
  /** Kept out of --help and the docs (an option that exists for compatibility). */
  readonly hidden?: boolean;
  /** Must be given (commander says so when it is not). */
  readonly required?: boolean;
  /** Given at most once (commander would keep the last value silently). */
  readonly once?: boolean;
  /** Type-level only: whether the value is never null. */
  readonly always?: Always;
}

export type OptionTable = Record<string, OptionSpec>;

/** The validated values of a table: each option's schema output, or null for one not given without a default. */
export type OptionValues<Table extends OptionTable> = {
  -readonly [K in keyof Table]: Table[K] extends OptionSpec<infer T, infer A> ? (A extends true ? T : T | null) : never;
};

type Extra = Pick<OptionSpec, 'defaultText' | 'config' | 'hidden' | 'choices' | 'once'>;

/** An option with a value and a default: never null. */
export function option<T>(
  flags: string,
  help: string,
  schema: z.ZodMiniType<T>,
  extra: Extra & { default: string | number },
): OptionSpec<T, true>;
/** An option with a value: null when not given. */
export function option<T>(flags: string, help: string, schema: z.ZodMiniType<T>, extra?: Extra): OptionSpec<T, false>;
export function option<T>(
  flags: string,
  help: string,
  schema: z.ZodMiniType<T>,
  extra: Extra & { default?: string | number } = {},
): OptionSpec<T, boolean> {
  return { flags, help, schema, ...extra };
}

/** One of a closed set of words (commander lists them in --help and refuses others). */
export function choice<const C extends readonly [string, ...string[]]>(
  flags: string,
  help: string,
  choices: C,
  extra: Omit<Extra, 'choices'> & { default: C[number] },
): OptionSpec<C[number], true>;
export function choice<const C extends readonly [string, ...string[]]>(
  flags: string,
  help: string,
  choices: C,
  extra?: Omit<Extra, 'choices'>,
): OptionSpec<C[number], false>;
export function choice<const C extends readonly [string, ...string[]]>(
  flags: string,
  help: string,
  choices: C,
  extra: Omit<Extra, 'choices'> & { default?: string } = {},
): OptionSpec<C[number], boolean> {
  return { flags, help, schema: oneOf(choices) as z.ZodMiniType<C[number]>, choices, ...extra };
}

/** An option that must be given. */
export function required<T>(
  flags: string,
  help: string,
  schema: z.ZodMiniType<T>,
  extra: Pick<OptionSpec, 'config'> = {},
): OptionSpec<T, true> {
  return { flags, help, schema, required: true, ...extra };
}

/** A switch: false unless given. */
export function flag(
  flags: string,
  help: string,
  extra: Pick<OptionSpec, 'config' | 'hidden'> = {},
): OptionSpec<boolean, true> {
  return { flags, help, schema: z.boolean(), default: false, ...extra };
}

/** The commander Option for a table entry; its attribute name must be the entry's key. */
export function commanderOption(key: string, spec: OptionSpec): Option {
  const made = new Option(spec.flags, spec.help);
  if (made.attributeName() !== key)
    throw new Error(`option table: ${spec.flags} is keyed '${key}', not '${made.attributeName()}'`);
  if (spec.choices) made.choices(spec.choices);
  if (typeof spec.default === 'number') made.default(String(spec.default), String(spec.default));
  else if (spec.default !== undefined) made.default(spec.default);
  // commander shows a default only when it has a value: the text stands in, and reads as "not given".
  else if (spec.defaultText !== undefined) made.default(spec.defaultText, spec.defaultText);
  if (spec.hidden) made.hideHelp();
  if (spec.required) made.makeOptionMandatory();
  if (spec.once) made.argParser(onceOnly(spec.flags.split(/[ ,]/)[0]));
  return made;
}

/** A parser that refuses a second value of the option. */
function onceOnly(flag: string): (value: string) => string {
  let given = false;
  return (value) => {
    if (given) throw new InvalidArgumentError(`${flag} is given more than once; one value per run`);
    given = true;
    return value;
  };
}

/** Adds a table's options to a command. */
export function addOptions<C extends Command>(command: C, table: OptionTable): C {
  for (const [key, spec] of Object.entries(table)) command.addOption(commanderOption(key, spec));
  return command;
}

/** The zod object that checks a table's raw values: an option without a default may be absent. */
function tableSchema(table: OptionTable): z.ZodMiniType<Record<string, unknown>> {
  const shape: Record<string, z.ZodMiniType> = {};
  for (const [key, spec] of Object.entries(table))
    shape[key] = spec.default === undefined && !spec.required ? z.optional(spec.schema) : spec.schema;
  return z.object(shape) as unknown as z.ZodMiniType<Record<string, unknown>>;
}

/**
 * Validates a parsed command's options against its table: the first problem is a UsageError naming the
 * option (parse-options.ts). Options of the command that are not in the table are left alone.
 */
export function validateOptions<Table extends OptionTable>(command: Command, table: Table): OptionValues<Table> {
  const all = command.opts();
  const raw: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const described = spec.default === undefined && command.getOptionValueSource(key) === 'default';
    raw[key] = described ? undefined : all[key];
  }
  const parsed = parseOptions(tableSchema(table), raw);
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(table)) values[key] = parsed[key] ?? null;
  return values as OptionValues<Table>;
}

/**
 * The report's `config`: every option of the table that has a config key, in table order, with its value,
 * or the effective value in `effective` (keyed by config key) where the run settled it (a path resolved, a
 * default taken from the model). Keys of `effective` that are no option's are added after them.
 */
export function recordedConfig<Table extends OptionTable>(
  table: Table,
  values: OptionValues<Table>,
  effective: Record<string, unknown> = {},
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    if (spec.config === undefined) continue;
    config[spec.config] = spec.config in effective ? effective[spec.config] : (values as Record<string, unknown>)[key];
  }
  return { ...config, ...effective };
}
