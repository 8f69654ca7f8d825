export { runFigure2, figure2Models } from './figure2';
export { runTable1, table1Markdown, table1ExtendedMarkdown, TABLE1_METHODS, POINTING_TOLERANCE } from './table1';
export type { Table1Result, Table1Row, Table1ExtendedRow, SaliencyCase } from './table1';
export { runTable2, table2Models } from './table2';
export { runTable3, table3Models } from './table3';
export { runTableS1, tableS1Models } from './table_s1';
export { runAucTable, protocolFooter, holmAdjustCells } from './auc_table';
export type { AucRow, AucTableResult, AucTableSpec } from './auc_table';
export { mstRecipe, resnet3dRecipe, learningRate, dinov2PatchSize } from './models';
export type { ModelRecipe, MstRecipeOptions, EncoderKind, EncoderWeights } from './models';
export { reproduceContext, shellQuote, cpuSecondsSince } from './context';
export type { ReproduceOptions, ReproduceContext, ModelRun } from './context';
export {
  trainOnTask,
  syntheticGeometry,
  syntheticDatasets,
  rowLearningRate,
  aucCell,
  formatAuc,
  formatP,
  formatCell,
  PRETRAINED_DINOV2_LR,
} from './protocol';
export type { TrainedModel, AucCell } from './protocol';
export { realTaskData, realDatasets, PAPER_VOLUME } from './real_data';
export type { RealTaskData } from './real_data';
export { markdownTable, writeTableFiles, writeRocFigure, writeConfusionFigure, youdenConfusion, formatSeconds, slug } from './report';
export type { MarkdownRow, MarkdownTableSpec, Provenance } from './report';
export { scaleConfig } from './scales';
export type { ReproduceScale, ScaleConfig, VitSize } from './scales';
export { TASKS, DEFAULT_TASKS, PAPER_DATASETS, checkTask, orderTasks } from './tasks';
export type { ReproduceTask, PaperDataset, TaskInfo } from './tasks';
export { PAPER_FIGURE2, PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3, PAPER_TABLE_S1 } from './paper_numbers';
export type { PaperTable } from './paper_numbers';
