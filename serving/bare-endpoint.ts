/**
 * The reference for `pricelab bench serving`: a bare express endpoint that parses the same
 * JSON body and answers a constant price, with nothing behind it. Run as a child process;
 * prints its URL on the first line of stdout and serves until killed.
 */
import express from 'express';
import { listen } from './server.js';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: '4mb', type: () => true }));
app.post('/v1/policies/:name/price', (_request, response) => {
  response.json({ price: 17.99, ladderIndex: 5 });
});
const { url } = await listen(app, 0, '127.0.0.1');
process.stdout.write(`${url}\n`);
