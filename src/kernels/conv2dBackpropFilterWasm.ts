/**
 * `Conv2DBackpropFilter` for the wasm backend, which ships without one (so `tf.grad`
 * through `tf.conv2d` fails there). The filter gradient is itself a convolution, so we
 * compute it with the backend's own XNNPACK `Conv2D` kernel instead of a scalar loop:
 *
 *   dW[kh,kw,ci,co] = sum_{b,i,j} x[b, i*sH + kh*dH - padTop, j*sW + kw*dW - padLeft, ci]
 *                                 * dy[b,i,j,co]
 *
 * Read x as a batch of Ci single images [Ci,H,W,B] (B becomes the channel axis) and dy as
 * a filter [OH,OW,B,Co]: the sum above is then a convolution whose stride is the forward
 * dilation and whose dilation is the forward stride, with output [Ci,KH,KW,Co].
 */
import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { WASM_BACKEND, callWasmKernel, convExplicitWasm, freeInfo, pair, zerosInfo, type WasmKernelArgs } from './wasmKernelUtil.js';

function conv2dBackpropFilterWasm(args: WasmKernelArgs): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs & {
    // Not part of tfjs's attrs (its conv2d gradient refuses dilation > 1), but accepted
    // so that a custom gradient of a dilated conv can call this kernel directly.
    dilations?: [number, number] | number;
  };
  const x = inputs['x'];
  const dy = inputs['dy'];
  if (x === undefined || dy === undefined) {
    throw new Error('Conv2DBackpropFilter (wasm): inputs x and dy are required');
  }
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`Conv2DBackpropFilter (wasm): dataFormat '${attrs.dataFormat}' is not supported; ` + `the wasm backend computes convolutions in NHWC only`);
  }
  if (x.shape.length !== 4 || dy.shape.length !== 4) {
    throw new Error(`Conv2DBackpropFilter (wasm): x ${x.shape} and dy ${dy.shape} must be rank 4`);
  }
  const filterShape = attrs.filterShape;
  const [kh, kw, ci, co] = filterShape;
  const [b, h, w, xc] = x.shape as [number, number, number, number];
  const [db, oh, ow, dyc] = dy.shape as [number, number, number, number];
  if (xc !== ci || dyc !== co || db !== b) {
    throw new Error(`Conv2DBackpropFilter (wasm): x ${x.shape}, dy ${dy.shape} and filterShape ` + `${filterShape} do not agree`);
  }
  const [sh, sw] = pair(attrs.strides, 1);
  const [dh, dw] = pair(attrs.dilations, 1);
  const info = tf.backend_util.computeConv2DInfo([b, h, w, ci], filterShape, [sh, sw], [dh, dw], attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  if (info.outHeight !== oh || info.outWidth !== ow) {
    throw new Error(`Conv2DBackpropFilter (wasm): dy ${dy.shape} does not match the forward output ` + `[${b},${info.outHeight},${info.outWidth},${co}]`);
  }
  const { top, left } = info.padInfo;
  // The padded input rows the sum touches run from -top to (kh-1)*dh + (oh-1)*sh - top;
  // pad (or crop) the bottom/right so that the convolution's output is exactly kh x kw.
  // Using info.padInfo.bottom instead would be wrong whenever a stride leaves the last
  // rows unused, or a 'ceil' rounding mode reads past the declared padding.
  const bottom = (kh - 1) * dh + (oh - 1) * sh + 1 - top - h;
  const right = (kw - 1) * dw + (ow - 1) * sw + 1 - left - w;
  if (b === 0 || oh === 0 || ow === 0 || h + Math.min(0, bottom) <= 0 || w + Math.min(0, right) <= 0) {
    // No (output, input) pair inside the image: every weight has zero gradient.
    return zerosInfo(backend, [kh, kw, ci, co]);
  }

  const xT = callWasmKernel('Transpose', backend, { x }, { perm: [3, 1, 2, 0] }); // [Ci,H,W,B]
  const dyT = callWasmKernel('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH,OW,B,Co]
  const g = convExplicitWasm(backend, xT, dyT, { top, bottom, left, right }, [dh, dw], [sh, sw]);
  freeInfo(backend, xT);
  freeInfo(backend, dyT);
  if (g.shape[1] !== kh || g.shape[2] !== kw) {
    freeInfo(backend, g);
    throw new Error(`Conv2DBackpropFilter (wasm): internal shape error, got ${g.shape}`);
  }
  const dW = callWasmKernel('Transpose', backend, { x: g }, { perm: [1, 2, 0, 3] }); // [KH,KW,Ci,Co]
  freeInfo(backend, g);
  return dW;
}

/** Kernel config: register with `tf.registerKernel` (done by `registerWasmKernels`). */
export const conv2dBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: WASM_BACKEND,
  kernelFunc: conv2dBackpropFilterWasm as unknown as KernelFunc,
};
