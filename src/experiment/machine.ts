// The machine an experiment ran on: the figures only mean something next to it. The load average is taken
// at the start and at the end, because other work on the machine (another build, a test run) slows the
// measured pipeline down and widens its margins of error.
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  /** What the pool and the default grid size themselves by (respects CPU affinity). */
  cores: number;
  /** Logical CPUs the OS reports. */
  logicalCpus: number;
  totalMemoryBytes: number;
  node: string;
  v8: string;
  /** "linux-x64" */
  platform: string;
  osRelease: string;
  /** 1, 5 and 15 minute load averages. */
  loadAverageStart: number[];
  loadAverageEnd: number[] | null;
}

const rounded = (values: number[]) => values.map((v) => Math.round(v * 100) / 100);

export function machineAtStart(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() || 'unknown',
    cores: availableParallelism(),
    logicalCpus: list.length,
    totalMemoryBytes: totalmem(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    osRelease: release(),
    loadAverageStart: rounded(loadavg()),
    loadAverageEnd: null,
  };
}

export function withLoadAverageEnd(machine: MachineInfo): MachineInfo {
  return { ...machine, loadAverageEnd: rounded(loadavg()) };
}
