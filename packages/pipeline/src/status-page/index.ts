// The static HTML status page: data (page-data.ts) -> one self-contained HTML file (render-page.ts).
export {
  type CellState,
  type PageAttempt,
  type PageBatch,
  type PageTask,
  type StatusPageData,
  CELL_STATES,
  collectStatusPage,
  pageBatch,
  statusPageData,
} from './page-data.js';
export { STATE_GLYPH, renderStatusPage } from './render-page.js';
export { type WriteStatusPageOptions, writeStatusPage } from './write-page.js';
export { mermaidGantt } from './mermaid.js';
