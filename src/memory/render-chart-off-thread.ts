/**
 * The memory chart rendered without blocking the event loop: the SVG is built here (tens of ms), the
 * rasterising and PNG encoding (about a second for 20 hosts) run in a worker thread. In the `all`
 * role the same event loop answers Slack within its 3 s, so a chart must not hold it up.
 */
import { Worker } from 'node:worker_threads';
import { buildMemoryChartSvg, chartRenderOptions, renderMemoryChart, type ChartNode, type ChartOptions, type RenderedChart } from './chart.ts';

const WORKER_URL = new URL('./chart-png-worker.mjs', import.meta.url);

class ChartTimeout extends Error {}

function rasteriseInWorker(svg: string, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: { svg, options: chartRenderOptions() } });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new ChartTimeout(`chart render took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (png: Uint8Array) => {
      clearTimeout(timer);
      resolve(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`chart worker exited with ${code}`));
    });
  });
}

/** Like `renderMemoryChart`, off the event loop; falls back to rendering here if no worker can run. */
export async function renderMemoryChartOffThread(nodes: readonly ChartNode[], options: ChartOptions, timeoutMs = 60_000): Promise<RenderedChart> {
  const { svg, width, height } = buildMemoryChartSvg(nodes, options);
  let png: Buffer;
  try {
    png = await rasteriseInWorker(svg, timeoutMs);
  } catch (err) {
    if (err instanceof ChartTimeout) throw err;
    // No worker thread here (a restricted runtime): slower for Slack's acks, but the chart still comes.
    return renderMemoryChart(nodes, options);
  }
  return { svg, png, width, height };
}
