import type { SyntheticTaskName } from '../data/synthetic/task';

/** Where a reproduction's cases come from: an embedded synthetic task or a downloaded dataset. */
export type ReproduceTask = 'synthetic-breast' | 'synthetic-chest' | 'synthetic-knee' | 'duke' | 'lidc' | 'mrnet';

/** The paper's dataset columns (Tables 1-3, S1 and Figure 2). */
export type PaperDataset = 'Breast MRI' | 'Chest CT' | 'Knee MRI';

/** The three columns in the paper's order. */
export const PAPER_DATASETS: readonly PaperDataset[] = ['Breast MRI', 'Chest CT', 'Knee MRI'];

/** What a task is. */
export interface TaskInfo {
  task: ReproduceTask;
  /** The paper's column this task stands for. */
  dataset: PaperDataset;
  /** The synthetic generator, or null for a real dataset (needs a data folder). */
  synthetic: Extract<SyntheticTaskName, 'breast' | 'chest' | 'knee'> | null;
  /** One line for table footers. */
  description: string;
}

/** Every task by name. */
export const TASKS: Readonly<Record<ReproduceTask, TaskInfo>> = {
  'synthetic-breast': { task: 'synthetic-breast', dataset: 'Breast MRI', synthetic: 'breast', description: 'synthetic breast-MRI-like subtraction volumes (enhancing mass present or not)' },
  'synthetic-chest': { task: 'synthetic-chest', dataset: 'Chest CT', synthetic: 'chest', description: 'synthetic chest-CT-like nodule crops (benign smooth vs malignant spiculated/lobulated)' },
  'synthetic-knee': { task: 'synthetic-knee', dataset: 'Knee MRI', synthetic: 'knee', description: 'synthetic knee-MRI-like sagittal stacks (meniscus intact vs torn)' },
  duke: { task: 'duke', dataset: 'Breast MRI', synthetic: null, description: 'Duke-Breast-Cancer-MRI, one case per breast (subtraction, 0.7x0.7x3 mm)' },
  lidc: { task: 'lidc', dataset: 'Chest CT', synthetic: null, description: 'LIDC-IDRI nodule crops (mean malignancy 1-2 benign vs 4-5 malignant)' },
  mrnet: { task: 'mrnet', dataset: 'Knee MRI', synthetic: null, description: 'MRNet sagittal T2 fat-saturated, meniscal tear (official validation set as test)' },
};

/** The default tasks: the three synthetic ones, in the paper's column order. */
export const DEFAULT_TASKS: readonly ReproduceTask[] = ['synthetic-breast', 'synthetic-chest', 'synthetic-knee'];

/** Checks a task name, with an error listing the valid ones. */
export function checkTask(name: string): ReproduceTask {
  if (!(name in TASKS)) throw new Error(`unknown task '${name}'; expected one of ${Object.keys(TASKS).join(', ')}`);
  return name as ReproduceTask;
}

/** Orders tasks by the paper's columns (then by name) and checks that no column is given twice. */
export function orderTasks(tasks: readonly ReproduceTask[]): ReproduceTask[] {
  const seen = new Map<PaperDataset, ReproduceTask>();
  for (const t of tasks) {
    const d = TASKS[checkTask(t)].dataset;
    const other = seen.get(d);
    if (other && other !== t) throw new Error(`tasks '${other}' and '${t}' both stand for the paper's ${d} column; run them separately`);
    seen.set(d, t);
  }
  return [...seen.values()].sort((a, b) => PAPER_DATASETS.indexOf(TASKS[a].dataset) - PAPER_DATASETS.indexOf(TASKS[b].dataset));
}
