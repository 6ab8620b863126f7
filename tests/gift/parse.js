// Read a GIFT file and print what gift-pegjs (an independent parser) makes of it, as JSON.
// Usage: node parse.js FILE
const fs = require("fs");
const { parse } = require("gift-pegjs");
const text = fs.readFileSync(process.argv[2], "utf8");
process.stdout.write(JSON.stringify(parse(text)));
