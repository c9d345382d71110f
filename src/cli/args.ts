/** Argument parsing for the verbs: node's parseArgs, its errors turned into one-line usage errors with a hint. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closestName } from '../config/suggest.js';
import { UsageError } from './io.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs' own messages are long and mention its API; say what is wrong in the verb's terms. */
function usageErrorOf(verb: string, options: Options, err: Error & { code?: string }): UsageError {
  const help = `automesh ${verb} --help lists the options`;
  const flag = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? '';
  const names = Object.keys(options);
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const guess = closestName(flag.replace(/^-+/, ''), names);
      return new UsageError(`unknown option ${flag} for ${verb}`, guess ? `did you mean --${guess}? (${help})` : help);
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = flag.replace(/^-+/, '').split(/[ =]/)[0] as string;
      return options[name]?.type === 'string'
        ? new UsageError(`${flag.split(/[ =]/)[0]} needs a value`, help)
        : new UsageError(`${flag.split(/[ =]/)[0]} takes no value`, help);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(
        `${verb} takes no arguments besides its options; got ${err.message.match(/'([^']*)'/)?.[1] ?? 'one'}`,
        help,
      );
    default:
      return new UsageError(err.message, help);
  }
}

/** parseArgs for verb `verb`; a bad argument throws a {@link UsageError} naming it. */
export function parseVerbArgs<C extends ParseArgsConfig & { options: Options }>(
  verb: string,
  config: C,
): ReturnType<typeof parseArgs<C>> {
  const options = config.options;
  try {
    return parseArgs(config);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (err instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      throw usageErrorOf(verb, options, err);
    throw err;
  }
}
