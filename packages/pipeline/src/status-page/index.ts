// The static HTML status page: data (page-data.ts) -> one self-contained HTML file (render-page.ts).
export {
  type CellState,
  type PageAttempt,
  type PageBatch,
  type PageTask,
  type StatusPageData,
  collectStatusPage,
  pageBatch,
  statusPageData,
} from './page-data.js';
export { renderStatusPage } from './render-page.js';
export { type WriteStatusPageOptions, writeStatusPage } from './write-page.js';
export { mermaidGantt } from './mermaid.js';
