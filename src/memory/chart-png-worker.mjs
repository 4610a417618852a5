// Rasterises the memory chart's SVG to PNG in a worker thread (see render-chart-off-thread.ts): the
// render and the PNG encoding take about a second for 20 hosts, which the bot's event loop (and the
// < 1 s Slack ack) must not wait for. Plain JavaScript, so the worker needs no TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import { Resvg } from '@resvg/resvg-js';

const png = new Resvg(workerData.svg, workerData.options).render().asPng();
parentPort.postMessage(png);
