import type { PaperDataset } from './tasks';

/*
 * The paper's numbers, quoted verbatim from Müller-Franzes et al., "Medical Slice Transformer"
 * (the text in `shared/paper/medical-slice-transformer.txt`), cell by cell as printed: AUC ± std
 * and the paired DeLong P against the table's first row. Tables 2, 3 and S1 say "mean accuracy ±
 * standard deviation" in their captions, but their first rows repeat Figure 2's AUCs, so they are
 * AUCs; we quote them as printed.
 */
/** A quoted table: where it is from and its cells by row and dataset. */
export interface PaperTable {
  /** Where in the paper, e.g. `Table 2`. */
  source: string;
  /** The caption's first sentence, quoted. */
  caption: string;
  rows: Record<string, Record<PaperDataset, string>>;
}

/** Figure 2 (values from the Results text "MST Outperforms Standard CNN Architectures"). */
export const PAPER_FIGURE2: PaperTable = {
  source: 'Figure 2 and Results ("MST Outperforms Standard CNN Architectures")',
  caption: 'Classification Performance as a Function of Model Architecture and Dataset.',
  rows: {
    'MST-DINOv2': { 'Breast MRI': '0.94±0.01', 'Chest CT': '0.95±0.01', 'Knee MRI': '0.85±0.04' },
    '3D ResNet50': { 'Breast MRI': '0.91±0.02 (P=0.02)', 'Chest CT': '0.92±0.02 (P=0.13)', 'Knee MRI': '0.69±0.05 (P=0.001)' },
  },
};

/** Table 1: radiologist-rated saliency maps, counts of 50 per dataset. */
export const PAPER_TABLE1: PaperTable = {
  source: 'Table 1',
  caption: 'Performance of 3D ResNet- and MST-Derived Saliency Maps in Highlighting Slices with Lesions and Cores of Lesions as a Function of Dataset.',
  rows: {
    '3D ResNet / Slice Correctness': { 'Breast MRI': '23/50', 'Chest CT': '14/50', 'Knee MRI': '0/50' },
    '3D ResNet / Lesion Correctness': { 'Breast MRI': '0/50', 'Chest CT': '0/50', 'Knee MRI': '0/50' },
    'MST / Slice Correctness': { 'Breast MRI': '40/50', 'Chest CT': '49/50', 'Knee MRI': '47/50' },
    'MST / Lesion Correctness': { 'Breast MRI': '26/50', 'Chest CT': '28/50', 'Knee MRI': '3/50' },
  },
};

/** Table 2: slice aggregation. */
export const PAPER_TABLE2: PaperTable = {
  source: 'Table 2',
  caption: 'Classification Performance as a Function of Slice Aggregation and Dataset.',
  rows: {
    Transformer: { 'Breast MRI': '0.94±0.01', 'Chest CT': '0.95±0.01', 'Knee MRI': '0.85±0.04' },
    'Transformer (with AdPE)': { 'Breast MRI': '0.94±0.01 (P=0.34)', 'Chest CT': '0.93±0.02 (P=0.17)', 'Knee MRI': '0.83±0.04 (P=0.41)' },
    'Linear Layer': { 'Breast MRI': '0.88±0.02 (P<0.001)', 'Chest CT': '0.93±0.02 (P=0.26)', 'Knee MRI': '0.78±0.04 (P=0.07)' },
    Average: { 'Breast MRI': '0.91±0.02 (P=0.03)', 'Chest CT': '0.92±0.02 (P=0.07)', 'Knee MRI': '0.82±0.04 (P=0.31)' },
  },
};

/** Table 3: the slice encoder. */
export const PAPER_TABLE3: PaperTable = {
  source: 'Table 3',
  caption: "Classification Performance as a Function of the Transformer Model's Backbone Variant and Dataset.",
  rows: {
    'MST (DINOv2)': { 'Breast MRI': '0.94±0.01', 'Chest CT': '0.95±0.01', 'Knee MRI': '0.85±0.04' },
    'MST (DINOv2 Base)': { 'Breast MRI': '0.93±0.02 (P=0.69)', 'Chest CT': '0.93±0.02 (P=0.27)', 'Knee MRI': '0.83±0.04 (P=0.41)' },
    'MST (DINOv2 Registers)': { 'Breast MRI': '0.93±0.02 (P=0.41)', 'Chest CT': '0.92±0.02 (P=0.02)', 'Knee MRI': '0.82±0.04 (P=0.31)' },
    'MST (DINOv2 Frozen)': { 'Breast MRI': '0.62±0.03 (P<0.001)', 'Chest CT': '0.66±0.03 (P<0.001)', 'Knee MRI': '0.79±0.04 (P=0.14)' },
    'MST (ResNet)': { 'Breast MRI': '0.93±0.01 (P=0.55)', 'Chest CT': '0.92±0.02 (P=0.01)', 'Knee MRI': '0.78±0.04 (P=0.07)' },
  },
};

/** Supplementary Table S1: the 3D ResNet's depth. */
export const PAPER_TABLE_S1: PaperTable = {
  source: 'Supplementary Table S1',
  caption: 'Classification Performance as a Function of the ResNet Variant and Dataset.',
  rows: {
    ResNet50: { 'Breast MRI': '0.91±0.02', 'Chest CT': '0.92±0.02', 'Knee MRI': '0.69±0.05' },
    ResNet18: { 'Breast MRI': '0.91±0.02 (P=0.63)', 'Chest CT': '0.91±0.02 (P=0.42)', 'Knee MRI': '0.63±0.05 (P=0.18)' },
    ResNet101: { 'Breast MRI': '0.90±0.02 (P=0.40)', 'Chest CT': '0.92±0.02 (P=0.97)', 'Knee MRI': '0.70±0.05 (P=0.72)' },
  },
};
