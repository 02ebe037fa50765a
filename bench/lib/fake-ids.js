'use strict'
/**
 * The fake daemon's container ids (bench/fake-daemon.js), and the stats
 * streams the benchmarks open on them: the containers are the bench
 * principal's own, so the gateway lets the streams through.
 */

/** The i-th fake container's full id: its index in hex, padded with 'b' to 64 characters. */
const fakeContainerId = (i) => (i.toString(16).padStart(4, '0') + 'b'.repeat(60)).slice(0, 64)

/** A stats stream on each of the first `n` fake containers (the list has 20). */
const fakeStatsPaths = (n = 20) => Array.from({ length: n }, (_, i) => `/v1.41/containers/${fakeContainerId(i)}/stats?stream=1`)

module.exports = { fakeContainerId, fakeStatsPaths }
