// Turns recorded client streams into fuzz seeds: each stream whole (channel seeds), and the
// body of each unencrypted MSG chunk prefixed with the decoder's "service request" selector.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
const [dir, channelOut, decoderOut] = process.argv.slice(2);
let bodies = 0;
for (const name of readdirSync(dir).sort()) {
  const data = readFileSync(`${dir}/${name}`);
  writeFileSync(`${channelOut}/${name}`, data);
  let at = 0;
  let none = false;
  while (at + 8 <= data.length) {
    const type = data.toString("latin1", at, at + 3);
    const size = data.readUInt32LE(at + 4);
    if (size < 8 || at + size > data.length) break;
    if (type === "OPN") none = data.includes("SecurityPolicy#None", at, "latin1");
    if (type === "MSG" && none) {
      const body = data.subarray(at + 24, at + size);  // header 8, channel 4, token 4, sequence 8
      writeFileSync(`${decoderOut}/${String(++bodies).padStart(3, "0")}.bin`, Buffer.concat([Buffer.from([7]), body]));
    }
    at += size;
  }
}
