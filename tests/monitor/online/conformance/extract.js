// The statements of ADL's LRS conformance suite (adlnet/lrs-conformance-test-suite, MIT) whose
// tests are declarative: a statement built from the suite's templates and the status an LRS must
// answer when it is POSTed (200 or 400). Printed as JSON lines for
// tests/monitor/online/test_xapi_schema.py. Needs node only (none of the suite's npm packages):
// the suite's helper is stood in for by the two functions its configs call, and templates are
// merged with a deep extend as its own helper does (the `extend` package's semantics).
// Usage: node extract.js SUITE_DIR
"use strict";
const fs = require("fs");
const path = require("path");
const Module = require("module");

const suite = path.resolve(process.argv[2]);
const base = path.join(suite, "test", "v1_0_3");
const templates = path.join(base, "templates");
const configs = path.join(base, "configs");

let counter = 0;
const helperStandIn = {
  generateUUID: () => `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`,
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (/helper(\.js)?$/.test(request)) return helperStandIn;
  return load.apply(this, arguments);
};

function isPlain(o) { return o !== null && typeof o === "object" && !Array.isArray(o); }

function extend(target, source) {  // jQuery's deep extend: arrays and objects copied into, undefined skipped
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined || value === target) continue;
    if (Array.isArray(value)) {
      const into = Array.isArray(target[key]) ? target[key] : [];
      target[key] = extend(into, value);
    } else if (isPlain(value)) {
      const into = isPlain(target[key]) ? target[key] : {};
      target[key] = extend(into, value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

function mapping() {
  const out = {};
  for (const folder of fs.readdirSync(templates)) {
    out[folder] = {};
    for (const file of fs.readdirSync(path.join(templates, folder))) {
      if (file.indexOf(".json") <= 0) continue;
      const data = JSON.parse(fs.readFileSync(path.join(templates, folder, file), "utf8"));
      out[folder][file.substring(0, file.indexOf(".json"))] = data;
    }
  }
  return out;
}

function convert(list) {
  const mapper = mapping();
  return list.map((item) => {
    const key = Object.keys(item)[0];
    const value = item[key];
    if (typeof value === "string" && value.indexOf("{{") === 0 && value.indexOf("}}") === value.length - 2) {
      let nested = mapper;
      for (const part of value.slice(2, -2).split(".")) {
        nested = nested[part];
        if (!nested) throw new Error("Not mapped: " + value);
      }
      return { [key]: nested };
    }
    return item;
  });
}

function build(array) {  // the suite's createTestObject: each later item merged into the one before
  let from = {};
  array.reverse();
  array.forEach((to, index) => {
    if (index === 0) { from = to; return; }
    extend(to[Object.keys(to)[0]], from);
    from = to;
  });
  return from;
}

for (const file of fs.readdirSync(configs).sort()) {
  if (!file.endsWith(".js")) continue;
  const groups = require(path.join(configs, file)).config();
  for (const group of groups) {
    for (const test of group.config) {
      let statement;
      if (test.templates) {
        const made = build(convert(JSON.parse(JSON.stringify(test.templates))));
        statement = made[Object.keys(made)[0]];
      } else {
        statement = test.json;
      }
      const line = JSON.stringify({ file, group: group.name, name: test.name, expect: test.expect[0], statement });
      process.stdout.write(line + "\n");
    }
  }
}
