// The queue tests' redis-server: each test file starts its own on a free loopback port and stops it
// (bench/redis-server.ts, shared with the scale-out bench).
export { hasRedisServer, startRedis, type RedisServer } from '../../bench/redis-server.js';
