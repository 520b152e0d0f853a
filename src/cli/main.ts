#!/usr/bin/env node
/**
 * portsniff command line. Exit codes: 0 ok, 1 runtime error (bad file, capture failure), 2 usage
 * error. Errors are one line on stderr; stack traces only with PORTSNIFF_DEBUG=1.
 */
import { Command, CommanderError } from 'commander';
import { PortsniffError, UsageError, ErrorCode } from '../errors.js';
import { LineWriter } from '../export/line-writer.js';
import { runReplay } from './commands/replay.js';
import { registerLiveCommands } from './commands/live.js';
import { registerProxyCommand } from './commands/proxy.js';
import { addSessionOptions, addSpeedOption, faceOptionsFrom, sessionOptionsFrom } from './session-options.js';
import { defaultGetRuleDirs, registerRulesCommands } from './commands/rules.js';
import { RuleFileError, formatRuleProblem } from '../rules/load.js';
import { PolicyFileError } from '../rules/policy.js';
import type { CliIo } from './io.js';
import { packageVersion } from './version.js';
import { isProcessEntry } from './process-entry.js';
import { processTerminal } from './terminal.js';

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('portsniff')
    .description(
      'Tell which product component every flow on the network belongs to, according to the vendor port ' +
        'references in rules/, and whether the traffic really speaks the documented protocol.',
    )
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Help asked for with an error (no command given) as it is; errors as one line like the tool's
      // own ("portsniff: ..."), commander's "(Did you mean ...?)" hint joined to it.
      writeErr: (s) => io.stderr(s.replace(/\n$/, '')),
      outputError: (s) => io.stderr(usageLine(s)),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  portsniff replay capture.pcap                   in a terminal: the dashboard; else the summary table
  portsniff replay incident.pcap --speed 10x      play a recording at ten times its pace, like live
  portsniff live eth0                             watch live traffic in the dashboard (q quits)
  portsniff replay capture.pcapng --json          machine-readable summary (docs/output-schema.md)
  portsniff replay capture.pcap --flows flows.ndjson
                                                  one JSON line per flow
  tcpdump -i eth0 -w - | portsniff replay -       read a pcap stream from stdin
  portsniff replay big.pcap.gz --max-flows 100000 gzip is detected by content
  portsniff live eth0 --duration 60 --json        capture for a minute (tcpdump backend by default)
  portsniff live lo port 6379                     trailing words are a BPF filter, as with tcpdump
  portsniff proxy --map 16379=10.0.0.5:12000      relay and classify without capture rights (docs/proxy.md)
  portsniff rules explain tcp/8443                which documented services claim a port, and why
  portsniff replay capture.pcap --monitoring-hosts 10.0.5.0/24
                                                  also check that metrics ports are only reached from there
  portsniff live eth0 --metrics 9464 --ipfix 10.0.5.20:4739 --alerts alerts.ndjson --policy policy.yaml
                                                  a fleet sensor: Prometheus, IPFIX, alerts (docs/deployment.md)

Exit codes: 0 ok, 1 runtime error (broken capture, I/O), 2 usage error or bad rule/policy files,
3 alerts of a --fail-on kind occurred.`,
    );

  const replay = program
    .command('replay')
    .description('Read a pcap or pcapng file (optionally gzip-compressed), or - for stdin, and report its flows.')
    .argument('<file>', 'capture file (.pcap, .pcapng, .gz), a FIFO or <(command), or - for standard input')
    .addHelpText(
      'after',
      `
Examples:
  portsniff replay capture.pcap                         the dashboard in a terminal; elsewhere the
                                                        services, verdicts and top flows as a table
  portsniff replay capture.pcap --speed 1x              at the recorded pace (10x, 0.5x, max)
  portsniff replay capture.pcap --no-ui | less          no dashboard: progress on stderr, table on stdout
  portsniff replay capture.pcapng --json                one JSON summary (schema: docs/output-schema.md)
  portsniff replay capture.pcap --flows flows.ndjson    also one JSON line per flow, with its verdict
  portsniff replay capture.pcap.gz --products zeebe,redis-enterprise
                                                        classify only against the products you run
  tcpdump -i eth0 -w - | portsniff replay -             read a pcap stream from stdin
  portsniff replay big.pcap --flows - | head            stdout closed early: reading stops, the
                                                        summary goes to stderr
  portsniff replay capture.pcap --policy policy.yaml --alerts - | jq -c 'select(.kind == "exposure-violation")'
                                                        clients your policy does not allow (docs/policy.md)
  portsniff replay nightly.pcap --policy policy.yaml --fail-on exposure,mismatch
                                                        exit 3 when such flows occurred (a CI / cron gate)
  portsniff replay capture.pcap --speed 10x --metrics 9464 --metrics-linger 30
                                                        paced, with Prometheus metrics (docs/metrics.md)
  portsniff replay capture.pcap --ipfix 127.0.0.1:4739  flow records to an IPFIX collector (docs/ipfix.md)
  portsniff replay node.pcap --vxlan-port 4790          also open VXLAN on UDP 4790; inner flows are
                                                        classified, "via" and --json say which tunnel
  portsniff replay node.pcap --decap off                only the outer flows (no tunnel opened)

Tunnels are opened by default (--decap auto): VXLAN (UDP 4789, 8472), VXLAN-GPE (4790), Geneve
(6081), GRE with ERSPAN, IP-in-IP, MPLS, PPPoE, Teredo (3544) and GTP-U (2152), nested up to 4 deep. The tunnel's
own flow stays a flow; each flow inside it is classified on its own addresses and carries a
"tunnel" list in --flows.

Dashboard keys: q quit, p pause, s sort, / filter, tab views, arrows + Enter drill down, Esc back,
? help, b bits/bytes. At the end of a replay it stays on the final state until q. It draws in a
thread of its own (the engine keeps its core). If the terminal goes away the run stops as with q.
With the capture on stdin (tcpdump -w - | portsniff replay -) keys are read from /dev/tty; a
background job (&) gets no dashboard.
Ctrl-C, SIGTERM or q stops reading and still prints the summary and flushes the flow log
("interrupted": true). So does an output that cannot take more: a --flows or --alerts file on a
full disk (an error naming it and the lines it holds, exit 1), stdout likewise (the summary then
goes to stderr), a FIFO or pipe whose reader left (a notice, exit 0; live and proxy wait for
a FIFO's next reader instead, dropping and counting lines meanwhile). --flows and --alerts never
overwrite a pcap, pcapng or gzip file (exit 2).
Exit codes: 0 ok, 1 broken input or I/O error (after reporting what was read), 2 usage error or a
bad rule/policy file, 3 alerts of a --fail-on kind occurred.`,
    );
  addSpeedOption(addSessionOptions(replay)).action(async (file: string, o: Record<string, unknown>) => {
    setExit(await runReplay(file, sessionOptionsFrom(o), io, faceOptionsFrom(o)));
  });

  registerLiveCommands(program, io, setExit);
  registerProxyCommand(program, io, setExit);

  registerRulesCommands(program, defaultGetRuleDirs, {
    out: (text) => io.stdout.write(text + '\n'),
    err: (line) => io.stderr(line),
    setExitCode: setExit,
  });

  return program;
}

/** commander's "error: too many arguments for 'replay'. ..." as one line of ours, with what to do. */
function usageLine(text: string): string {
  const line = text.trim().replace(/\s*\n\s*/g, ' ').replace(/^error: /, '');
  if (/^too many arguments for 'replay'/.test(line)) {
    return `portsniff: ${line} replay reads one capture: merge several first (mergecap -w all.pcapng a.pcap b.pcap)`;
  }
  return `portsniff: ${line}`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let code: number;
  try {
    code = await runCommand(argv, io);
  } finally {
    io.stdout.flush();
  }
  // A session tells of its own stdout (with the summary); any other command's output (help, rules
  // list) is told here.
  if (io.stdout.failure !== null && code === 0) {
    io.stderr(`portsniff: error: cannot write stdout: ${io.stdout.failure}`);
    return 1;
  }
  return code;
}

async function runCommand(argv: string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (c) => {
    exitCode = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; everything else commander rejects is a usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof UsageError || (err instanceof PortsniffError && err.code === ErrorCode.Usage)) {
      io.stderr(`portsniff: ${err.message}`);
      return 2;
    }
    if (err instanceof PolicyFileError) {
      // Like rule files: every problem of the --policy file, then exit 2.
      for (const p of err.problems) io.stderr(formatRuleProblem(p));
      io.stderr(`portsniff: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in the policy file`);
      return 2;
    }
    if (err instanceof RuleFileError) {
      // A bad rule file is a configuration error: every problem, then exit 2.
      for (const p of err.problems) io.stderr(formatRuleProblem(p));
      io.stderr(`portsniff: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in rule files`);
      return 2;
    }
    if (err instanceof PortsniffError) {
      io.stderr(`portsniff: ${err.message}`);
      return 1;
    }
    const e = err as Error;
    io.stderr(`portsniff: internal error: ${e?.message ?? String(err)}`);
    if (process.env['PORTSNIFF_DEBUG']) io.stderr(String(e?.stack));
    return 1;
  }
  return exitCode;
}

/**
 * The process around main(): SIGINT/SIGTERM and a closed stdout abort the run (a second signal
 * exits at once), stdout is a synchronous writer, and the process exits with main's code without
 * waiting for stdin.
 */
export function runProcess(argv: string[]): void {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`portsniff: second ${sig}, exiting without waiting\n`);
      process.exit(130);
    }
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that went away (`| head`) stops the run like a signal: when stdout carries the flow
  // log, nothing more could be delivered. The session then reports on stderr.
  const stdout = new LineWriter(1, () => controller.abort());
  // stderr's reader gone (`2>&1 >out.json | head -1`) or a full device: nothing left to tell there,
  // but the run goes on (its summary and flow log have their own outputs). A write that fails on a
  // pipe comes back as an 'error' event, which unhandled would end the process.
  let stderrGone = false;
  process.stderr.on('error', () => {
    stderrGone = true;
  });
  const io: CliIo = {
    stdout,
    stderr: (line) => {
      if (stderrGone) return;
      try {
        process.stderr.write(line + '\n');
      } catch {
        stderrGone = true;
      }
    },
    stdin: process.stdin,
    isTTY: process.stdout.isTTY === true,
    signal: controller.signal,
    terminal: processTerminal(),
    env: process.env,
    progress: true,
    onHangup: (cb) => {
      const handler = (): void => cb();
      process.on('SIGHUP', handler);
      return () => process.off('SIGHUP', handler);
    },
  };
  main(argv, io).then(
    (code) => {
      stdout.flush();
      process.exitCode = code;
      if (stdout.closedBy === 'EIO' && stdout.readerGone) {
        // The terminal hung up and everything is written. End the way SIGHUP ends a process:
        // Node's own exit would restore the terminal's modes and abort on a terminal that is gone
        // (ResetStdio asserts on EIO in Node 20).
        process.removeAllListeners('SIGHUP');
        process.kill(process.pid, 'SIGHUP');
        return;
      }
      // Do not wait for stdin or timers left by libraries.
      setImmediate(() => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`portsniff: internal error: ${(err as Error)?.message ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

// Run directly (tsc's output, or the sources under tsx); the bundle starts from entry.ts instead.
if (isProcessEntry(import.meta.url)) runProcess(process.argv.slice(2));
