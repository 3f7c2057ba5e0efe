import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueConnection } from '../../src/queue/queueConnection.js';

test('the queue connection comes from the URL, then the environment; the shown address has no password', () => {
  const plain = queueConnection('redis://10.0.0.5:6380', {});
  assert.deepEqual(plain.options, { host: '10.0.0.5', port: 6380, db: 0, maxRetriesPerRequest: null });
  assert.equal(plain.shown, 'redis://10.0.0.5:6380/0');

  const withSecret = queueConnection('redis://lab:p%40ss@queue.example:6379/2', { SELFDPO_REDIS_PASSWORD: 'ignored' });
  assert.equal(withSecret.options.username, 'lab');
  assert.equal(withSecret.options.password, 'p@ss', 'the URL is decoded and beats the environment');
  assert.equal(withSecret.options.db, 2);
  assert.ok(!withSecret.shown.includes('p@ss') && !withSecret.shown.includes('lab'), withSecret.shown);

  const fromEnv = queueConnection('redis://queue.example', { SELFDPO_REDIS_PASSWORD: 's3cret', SELFDPO_REDIS_TLS: '1' });
  assert.equal(fromEnv.options.port, 6379);
  assert.equal(fromEnv.options.password, 's3cret');
  assert.deepEqual(fromEnv.options.tls, {});
  assert.equal(fromEnv.shown, 'rediss://queue.example/0');
  assert.deepEqual(queueConnection('rediss://queue.example:6390', {}).options.tls, {});

  assert.throws(() => queueConnection('http://queue.example', {}), /--queue: expected a redis:\/\/ or rediss:\/\/ URL/);
  assert.throws(() => queueConnection('queue.example:6379', {}), /--queue: expected a redis:\/\/ or rediss:\/\/ URL|--queue: expected redis:\/\/host:port/);
  assert.throws(() => queueConnection('redis://h:1/x', {}), /the database after the port must be a number, got "x"/);
  assert.throws(() => queueConnection('redis://h:1', { SELFDPO_REDIS_TLS: 'yes' }), /SELFDPO_REDIS_TLS: expected 0 or 1/);
  assert.throws(() => queueConnection('redis://h:1', { SELFDPO_REDIS_CA: '/no/such/ca.pem' }), /SELFDPO_REDIS_CA: cannot read \/no\/such\/ca\.pem/);
});
