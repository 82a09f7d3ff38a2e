// A TCP proxy that records what each client sends: streams/<n>.bin per connection; with a
// fourth argument, what the server answers too: <replies dir>/<n>.bin.
import net from "node:net";
import { appendFileSync } from "node:fs";
const [listenPort, targetPort, dir, repliesDir] = process.argv.slice(2);
let n = 0;
net.createServer((client) => {
  const name = `${String(++n).padStart(3, "0")}.bin`;
  const server = net.connect(Number(targetPort), "127.0.0.1");
  client.on("data", (d) => { appendFileSync(`${dir}/${name}`, d); server.write(d); });
  server.on("data", (d) => { if (repliesDir) appendFileSync(`${repliesDir}/${name}`, d); client.write(d); });
  client.on("close", () => server.end());
  server.on("close", () => client.end());
  client.on("error", () => server.destroy());
  server.on("error", () => client.destroy());
}).listen(Number(listenPort), "127.0.0.1");
