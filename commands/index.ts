import type { AnyCommand } from '../src/commands/command.ts';
import { cancelCommand } from './cancel.ts';
import { demoteCommand } from './demote.ts';
import { createHelpCommand } from './help.ts';
import { historyCommand } from './history.ts';
import { memoryCommand } from './memory.ts';
import { promoteCommand } from './promote.ts';
import { startCommand } from './start.ts';
import { statusCommand } from './status.ts';

const visible: AnyCommand[] = [statusCommand, memoryCommand, promoteCommand, demoteCommand, startCommand, historyCommand, cancelCommand];

/** Every `/vip` sub-command, help first. */
export const commands: readonly AnyCommand[] = [createHelpCommand(visible), ...visible];
