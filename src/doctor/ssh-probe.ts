/**
 * The doctor's node probe over SSH: the same facts a status reads, `keepalived --version`, and with
 * `ssh.sudo` one `sudo -n -l` per node command the bot may run there (sudo lists it or refuses; nothing
 * runs). The commands asked about are those of `vipbot sudoers` for the node.
 */
import type { ResolvedNode } from '../config/config.ts';
import { describeError } from '../errors.ts';
import {
  backupConfig, backupPathFor, copyOwnerMode, formatCommand, installConfig, keepalivedVersion, listAddresses, listKeepalivedProcesses,
  readConfig, serviceIsActive, serviceReload, serviceRestart, serviceShow, serviceStart, serviceStop, stageConfig, stagingPathFor,
  sudoCheck, testConfig, type NodeCommand,
} from '../hosts/node-commands.ts';
import type { NodeFacts } from '../model.ts';
import { collectNodeFacts, type NodeRunner, type TrackScriptMemo } from '../status/collect-node-facts.ts';
import type { NodeDoctorProbe } from './check-nodes.ts';

/** The node commands of `vipbot sudoers` that can be built as commands (the timestamped backups are globs). */
function sudoCommandsFor(node: ResolvedNode, trackScriptCommands: readonly NodeCommand[]): NodeCommand[] {
  const conf = node.keepalived.configPath;
  const service = node.keepalived.service;
  const staging = stagingPathFor(conf);
  return [
    readConfig(conf), serviceShow(service), serviceIsActive(service), listKeepalivedProcesses(), listAddresses(), testConfig(conf),
    testConfig(staging), keepalivedVersion(), serviceStart(service), serviceStop(service), serviceRestart(service), serviceReload(service),
    backupConfig(conf, backupPathFor(conf)), stageConfig(staging, ''), ...copyOwnerMode(conf, staging), installConfig(staging, conf),
    ...trackScriptCommands,
  ];
}

export function createSshDoctorProbe(runner: NodeRunner): NodeDoctorProbe {
  const memo: TrackScriptMemo = new Map();
  const target = (node: ResolvedNode) => ({ name: node.node.name, host: node.node.host, ssh: node.ssh });
  return {
    facts: (node) => collectNodeFacts(runner, node, { memo }),
    async keepalivedVersion(node) {
      try {
        const res = await runner.run(target(node), keepalivedVersion());
        return `${res.stderr}\n${res.stdout}`.trim() || undefined;
      } catch {
        return undefined;
      }
    },
    async sudoRefusals(node: ResolvedNode, _facts: NodeFacts) {
      const commands = sudoCommandsFor(node, memo.get(node.node.name)?.commands ?? []);
      const answers = await Promise.all(commands.map(async (cmd) => {
        try {
          const res = await runner.run(target(node), sudoCheck(cmd));
          return res.code === 0 ? undefined : formatCommand(cmd);
        } catch (err) {
          return `${formatCommand(cmd)} (${describeError(err)})`;
        }
      }));
      return answers.filter((a): a is string => a !== undefined);
    },
  };
}
