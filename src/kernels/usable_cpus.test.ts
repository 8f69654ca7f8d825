import { processCpuCount, usableCpuCount } from './usable_cpus';

/** A file system of the given files; every other path is missing. */
const files = (entries: Record<string, string>) => (path: string) => entries[path] ?? null;

describe('usableCpuCount', () => {
  it('caps the affinity by a cgroup v2 quota, rounded up, on the process group or any parent', () => {
    const v2 = (cpuMax: Record<string, string>) => files({ '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n', ...Object.fromEntries(Object.entries(cpuMax).map(([dir, v]) => [`/sys/fs/cgroup${dir}/cpu.max`, v])) });
    expect(usableCpuCount({ available: 64, readText: v2({ '/kubepods/pod1/ctr': '200000 100000\n' }) })).toBe(2);
    expect(usableCpuCount({ available: 64, readText: v2({ '/kubepods/pod1/ctr': '150000 100000' }) })).toBe(2);
    expect(usableCpuCount({ available: 64, readText: v2({ '/kubepods/pod1/ctr': 'max 100000', '/kubepods': '400000 100000' }) })).toBe(4);
    expect(usableCpuCount({ available: 64, readText: v2({ '/kubepods/pod1/ctr': '800000 100000', '': '300000 100000' }) })).toBe(3);
    // A quota above the affinity leaves the affinity; a tiny one still leaves one CPU.
    expect(usableCpuCount({ available: 2, readText: v2({ '/kubepods/pod1/ctr': '800000 100000' }) })).toBe(2);
    expect(usableCpuCount({ available: 8, readText: v2({ '/kubepods/pod1/ctr': '1000 100000' }) })).toBe(1);
  });

  it('reads cgroup v1 quotas under either mount of the cpu controller', () => {
    const groups = '4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/\n';
    expect(usableCpuCount({ available: 16, readText: files({ '/proc/self/cgroup': groups, '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '300000\n', '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n' }) })).toBe(3);
    expect(usableCpuCount({ available: 16, readText: files({ '/proc/self/cgroup': groups, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '50000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }) })).toBe(1);
    expect(usableCpuCount({ available: 16, readText: files({ '/proc/self/cgroup': groups, '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000' }) })).toBe(16);
  });

  it('takes missing, unreadable or garbled files as no quota', () => {
    expect(usableCpuCount({ available: 6, readText: () => null })).toBe(6);
    expect(usableCpuCount({ available: 6, readText: files({ '/proc/self/cgroup': 'garbage\n::\n0::relative\n' }) })).toBe(6);
    expect(usableCpuCount({ available: 6, readText: files({ '/proc/self/cgroup': '0::/a\n', '/sys/fs/cgroup/a/cpu.max': 'x y z' }) })).toBe(6);
    expect(usableCpuCount({ available: 6, readText: files({ '/proc/self/cgroup': '0::/a\n', '/sys/fs/cgroup/a/cpu.max': '0 100000' }) })).toBe(6);
  });

  it("this process's count is at least one and at most its affinity", () => {
    const n = processCpuCount();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual((require('node:os') as typeof import('node:os')).availableParallelism());
  });
});
