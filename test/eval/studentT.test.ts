import { test } from 'node:test';
import assert from 'node:assert/strict';
import { studentTCdf, studentTQuantile } from '../../src/eval/studentT.js';

const close = (actual: number, expected: number, tol: number, what: string): void => assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual}, expected ${expected} ± ${tol}`);

test('the normal (df = Infinity): its quantiles and tail values, to the published digits', () => {
  close(studentTQuantile(0.975, Infinity), 1.959963985, 1e-8, 'z(0.975)');
  close(studentTQuantile(0.8, Infinity), 0.841621234, 1e-8, 'z(0.8)');
  close(studentTQuantile(0.025, Infinity), -1.959963985, 1e-8, 'z(0.025)');
  close(studentTCdf(1.96, Infinity), 0.9750021049, 1e-9, 'Phi(1.96)');
  close(studentTCdf(0, Infinity), 0.5, 1e-15, 'Phi(0)');
  // Far in the tail the lower tail keeps its digits: Phi(-8) = 6.22096e-16.
  close(studentTCdf(-8, Infinity) / 6.220960574e-16, 1, 1e-8, 'Phi(-8)');
});

test('t with 1, 2 and 3 df equals its closed forms', () => {
  for (const t of [-30, -2.3, -0.4, 0, 0.7, 1.5, 12]) {
    // df 1 is the Cauchy distribution: 1/2 + atan(t)/pi.
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-12, `t1(${t})`);
    // df 2: 1/2 + t / (2 sqrt(2 + t²)).
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-12, `t2(${t})`);
    // df 3: 1/2 + (t/sqrt(3) / (1 + t²/3) + atan(t/sqrt(3))) / pi.
    close(studentTCdf(t, 3), 0.5 + (t / Math.sqrt(3) / (1 + (t * t) / 3) + Math.atan(t / Math.sqrt(3))) / Math.PI, 1e-12, `t3(${t})`);
  }
});

test("t quantiles match the printed table (winRate's T_975) and approach the normal's", () => {
  const table: Array<[number, number]> = [
    [1, 12.706],
    [2, 4.303],
    [4, 2.776],
    [9, 2.262],
    [30, 2.042],
  ];
  for (const [df, q] of table) close(studentTQuantile(0.975, df), q, 5e-4, `t(0.975, ${df})`);
  close(studentTQuantile(0.8, 9), 0.883, 5e-4, 't(0.8, 9)');
  close(studentTQuantile(0.975, 1e7), 1.959963985, 1e-5, 't(0.975, 1e7)');
  // Fractional df (Welch): between its integer neighbours.
  const q = studentTQuantile(0.975, 2.5);
  assert.ok(q < studentTQuantile(0.975, 2) && q > studentTQuantile(0.975, 3));
  close(studentTCdf(studentTQuantile(0.9, 2.5), 2.5), 0.9, 1e-12, 'cdf(quantile)');
  assert.throws(() => studentTQuantile(1, 3), /0 < p < 1/);
  assert.throws(() => studentTCdf(1, 0), /df > 0/);
});
