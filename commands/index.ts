import type { AnyCommand } from '../src/commands/command.ts';
import { createHelpCommand } from './help.ts';
import { statusCommand } from './status.ts';

const visible: AnyCommand[] = [statusCommand];

/** Every `/vip` sub-command, help first. */
export const commands: readonly AnyCommand[] = [createHelpCommand(visible), ...visible];
