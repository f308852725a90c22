#!/usr/bin/env node
// configurable-http-proxy (node_modules), with one fix: a request whose path is not valid percent-encoding
// (`GET /%`) is answered as a path no route matches (404, through the hub's error page) instead of 500.
// CHP 4.6.3 looks the route up with decodeURIComponent(path), which throws URIError; its catch-all answers 500.
// Everything else, options included, is CHP's own: this file patches one method, then runs CHP's command line.
"use strict";
const { ConfigurableProxy } = require("configurable-http-proxy/lib/configproxy.js");

const targetForReq = ConfigurableProxy.prototype.targetForReq;
ConfigurableProxy.prototype.targetForReq = async function (req) {
  try {
    return await targetForReq.call(this, req);
  } catch (e) {
    if (e instanceof URIError) return undefined; // no route for a path that cannot be decoded
    throw e;
  }
};

require("configurable-http-proxy/bin/configurable-http-proxy");
