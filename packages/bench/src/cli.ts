import { parseArgs } from 'node:util';
import { Cleanups } from './cleanups';
import { machineInfo } from './machine';
import { formatReport, writeReport } from './report';
import { SCENARIOS, findScenario } from './scenario-registry';

/**
 * `pnpm bench [scenario] [--flags]`: runs one scenario, prints a table and writes the same as JSON.
 * Without a scenario the first of the registry runs.
 */
async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  const named = first !== undefined && !first.startsWith('-');
  if (first === 'help' || argv.includes('--help')) {
    printHelp();
    return 0;
  }
  const name = named ? first : SCENARIOS[0]!.name;
  const scenario = findScenario(name);
  if (!scenario) {
    console.error(`unknown scenario "${name}"`);
    printHelp();
    return 2;
  }
  const { values } = parseArgs({ args: named ? argv.slice(1) : argv, options: scenario.options, strict: true });

  const log = (message: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
  const cleanups = new Cleanups();
  let interrupted = false;
  // Ctrl-C must still stop the PostgreSQL server and nodes this run started.
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping what this run started`);
    void cleanups.runAll(log).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const startedAt = new Date().toISOString();
  // Other work on a shared box skews every number: the load before the run is part of the result.
  const loadAtStart = machineInfo().loadAverage;
  try {
    const result = await scenario.run({ flags: values, cleanups, log });
    const report = { scenario: scenario.name, startedAt, flags: values, machine: { ...machineInfo(), loadAtStart }, result };
    console.log(formatReport(report));
    console.log(`\nwritten: ${writeReport(report)}`);
    return result.failures.length > 0 ? 1 : 0;
  } finally {
    await cleanups.runAll(log);
  }
}

function printHelp(): void {
  console.log('usage: pnpm bench [scenario] [--flags]\n\nscenarios:');
  for (const s of SCENARIOS) {
    console.log(`  ${s.name.padEnd(14)} ${s.summary}`);
    for (const line of s.usage) console.log(`      ${line}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
