import { nodeRequire } from './node_require';

/** Where {@link usableCpuCount} reads the system's state; tests give their own. */
export interface CpuSources {
  /** `os.availableParallelism()`: the CPUs of this process's affinity mask. */
  available: number;
  /** Reads a file as text, or returns null where it is missing or unreadable. */
  readText(path: string): string | null;
}

/**
 * The CPUs this process can keep busy: `os.availableParallelism()` (its CPU affinity), capped by
 * the CPU quota of its control group (a container started with `--cpus 2` on a 64-core host,
 * Kubernetes' CPU limit) and rounded up as the JVM does. Without that cap, one thread per host
 * core each gets a slice of the quota and the whole computation is throttled. Reads cgroup v2's
 * `cpu.max` along the process's group and its parents, or cgroup v1's `cpu.cfs_quota_us` /
 * `cpu.cfs_period_us`; anything missing or unreadable means no quota.
 */
export function usableCpuCount(sources: CpuSources): number {
  const available = Math.max(1, Math.floor(sources.available));
  const quota = cgroupCpuQuota(sources.readText);
  return quota === null ? available : Math.max(1, Math.min(available, Math.ceil(quota)));
}

/** The smallest CPU quota (in CPUs) on the process's cgroup path, or null where none is set. */
function cgroupCpuQuota(readText: CpuSources['readText']): number | null {
  const groups = readText('/proc/self/cgroup');
  if (groups === null) return null;
  let smallest: number | null = null;
  const consider = (q: number | null) => {
    if (q !== null && q > 0 && (smallest === null || q < smallest)) smallest = q;
  };
  for (const line of groups.split('\n')) {
    // "hierarchy-id:controllers:path"; the path itself may hold ':'.
    const [id, controllers, ...rest] = line.split(':');
    const path = rest.join(':').trim();
    if (id === undefined || controllers === undefined || !path.startsWith('/')) continue;
    if (id === '0' && controllers === '') {
      for (const dir of ancestors(path)) consider(parseCpuMax(readText(`/sys/fs/cgroup${dir}/cpu.max`)));
    } else if (controllers.split(',').includes('cpu')) {
      for (const mount of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
        for (const dir of ancestors(path)) consider(parseCfs(readText(`${mount}${dir}/cpu.cfs_quota_us`), readText(`${mount}${dir}/cpu.cfs_period_us`)));
      }
    }
  }
  return smallest;
}

/** `/a/b` -> `/a/b`, `/a`, `` (the mount's root): a quota on any of them applies. */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, parts.length - i).join('/')}`).concat('');
}

/** cgroup v2 `cpu.max`: "max 100000" (no quota) or "<quota> <period>". */
function parseCpuMax(text: string | null): number | null {
  const [quota, period] = (text ?? '').trim().split(/\s+/);
  return ratio(quota, period);
}

/** cgroup v1: quota -1 is no quota. */
function parseCfs(quota: string | null, period: string | null): number | null {
  return ratio(quota?.trim(), period?.trim());
}

function ratio(quota: string | undefined, period: string | undefined): number | null {
  const q = Number(quota);
  const p = Number(period);
  return quota && period && Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : null;
}

/**
 * {@link usableCpuCount} of this process: 1 outside Node. The native kernels' threads, the
 * classifier's slice-encoder pool and the cohort runner's ONNX threads follow it.
 */
export function processCpuCount(): number {
  const req = nodeRequire();
  if (!req) return 1;
  const os = req('node:os') as typeof import('node:os');
  const fs = req('node:fs') as typeof import('node:fs');
  return usableCpuCount({
    available: os.availableParallelism(),
    readText(path) {
      try {
        return fs.readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
  });
}
