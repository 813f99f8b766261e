import CTorch

/// The two detection kernels: ROIAlign and NMS. On the CPU they run the C++ kernels; on other
/// devices they are expressed with tensor ops that run anywhere (and are differentiable).
public enum DetectionOps {
    /// ROIAlign of input (N, C, H, W) over rois (K, 5) = (batch index, x1, y1, x2, y2) in input
    /// coordinates times 1/spatialScale. aligned: Detectron2's ROIAlignV2 (half-pixel offset);
    /// otherwise the legacy form (rois at least 1x1). samplingRatio <= 0: adaptive,
    /// ceil(roi size / output size) samples per bin. Returns (K, C, outputHeight, outputWidth).
    public static func roiAlign(_ input: Tensor, rois: Tensor, spatialScale: Double, outputSize: (Int, Int),
                                samplingRatio: Int, aligned: Bool) throws -> Tensor {
        guard outputSize.0 > 0, outputSize.1 > 0 else { throw TorchError("roi_align: output size must be positive, got \(outputSize)") }
        if input.device == .cpu && rois.device == .cpu {
            return try Tensor.make {
                ct_roi_align(input.handle, rois.handle, spatialScale, Int64(outputSize.0), Int64(outputSize.1),
                             Int64(samplingRatio), aligned ? 1 : 0, $0)
            }
        }
        return try roiAlignTensorOps(input, rois: rois, spatialScale: spatialScale, outputSize: outputSize,
                                     samplingRatio: samplingRatio, aligned: aligned)
    }

    /// ROIAlign from generic tensor ops (gathers and weighted sums), for any device. Same
    /// definition as the C++ kernel; rois are processed in chunks to bound memory.
    public static func roiAlignTensorOps(_ input: Tensor, rois: Tensor, spatialScale: Double, outputSize: (Int, Int),
                                         samplingRatio: Int, aligned: Bool, chunkBudget: Int = 16_000_000) throws -> Tensor {
        guard input.dim == 4 else { throw TorchError("roi_align: input must be (N, C, H, W), got \(input.shape)") }
        guard rois.dim == 2, try rois.size(1) == 5 else { throw TorchError("roi_align: rois must be (K, 5), got \(rois.shape)") }
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let k = try rois.size(0)
        let (ph, pw) = outputSize
        if k == 0 { return try Tensor.zeros([0, c, ph, pw], dtype: input.dtype, device: input.device) }
        if try !(rois.isfinite().reduce(.all).item() != 0) { throw TorchError("roi_align: rois contain NaN or infinite values") }
        let batch = try rois.select(1, 0)
        if try batch.binary(.lt, 0).reduce(.any).item() != 0 || batch.binary(.ge, Double(n)).reduce(.any).item() != 0 {
            throw TorchError("roi_align: a roi's batch index is outside 0..\(n - 1)")
        }
        // Rows of (N*H*W, C): one gather picks a pixel's channel vector.
        let flat = try input.permute([0, 2, 3, 1]).reshape([n * h * w, c])
        let offset = aligned ? 0.5 : 0.0
        var outputs: [Tensor] = []
        var start = 0
        while start < k {
            // Grid sizes of this chunk decide its memory; shrink the chunk when rois are large.
            var count = Swift.min(k - start, 256)
            while true {
                let r = try rois.narrow(0, start: start, length: count)
                let geometry = try roiGeometry(r, scale: spatialScale, offset: offset, ph: ph, pw: pw,
                                               samplingRatio: samplingRatio, aligned: aligned)
                let cost = count * ph * pw * geometry.gh * geometry.gw * c * 4
                if cost <= chunkBudget || count == 1 {
                    outputs.append(try roiAlignChunk(flat, r, geometry, n: n, c: c, h: h, w: w, ph: ph, pw: pw))
                    start += count
                    break
                }
                count = Swift.max(1, count / 2)
            }
        }
        return outputs.count == 1 ? outputs[0] : try Tensor.cat(outputs, dim: 0)
    }

    struct RoiGeometry {
        var batch: Tensor        // (K) int64
        var startH: Tensor, startW: Tensor, binH: Tensor, binW: Tensor   // (K)
        var gridH: Tensor, gridW: Tensor   // (K) as floating point
        var gh: Int, gw: Int     // the chunk's largest grid
    }

    static func roiGeometry(_ r: Tensor, scale: Double, offset: Double, ph: Int, pw: Int, samplingRatio: Int,
                            aligned: Bool) throws -> RoiGeometry {
        let col = { (i: Int) throws -> Tensor in try r.select(1, i) }
        let sw = try col(1) * scale - offset, sh = try col(2) * scale - offset
        var rw = try col(3) * scale - offset - sw, rh = try col(4) * scale - offset - sh
        if !aligned {
            rw = try rw.clamp(min: 1)
            rh = try rh.clamp(min: 1)
        }
        let binH = try rh / Double(ph), binW = try rw / Double(pw)
        let gridH: Tensor, gridW: Tensor
        if samplingRatio > 0 {
            gridH = try Tensor.full([try r.size(0)], Double(samplingRatio), dtype: r.dtype, device: r.device)
            gridW = gridH
        } else {
            gridH = try binH.ceil().clamp(min: 0)
            gridW = try binW.ceil().clamp(min: 0)
        }
        let gh = Int(try gridH.max().item()), gw = Int(try gridW.max().item())
        return RoiGeometry(batch: try col(0).to(dtype: .int64), startH: sh, startW: sw, binH: binH, binW: binW,
                           gridH: gridH, gridW: gridW, gh: Swift.max(gh, 1), gw: Swift.max(gw, 1))
    }

    /// Sample coordinates along one axis: (K, P, G) positions, validity of the grid slot, for
    /// bins 0..<P with grid G (slots beyond a roi's own grid are invalid).
    static func axisSamples(start: Tensor, bin: Tensor, grid: Tensor, p: Int, g: Int) throws -> (Tensor, Tensor) {
        let dev = start.device, dt = start.dtype
        let bins = try Tensor.arange(0, Double(p), dtype: dt, device: dev).view([1, p, 1])
        let slots = try Tensor.arange(0, Double(g), dtype: dt, device: dev).view([1, 1, g])
        let s = try start.view([-1, 1, 1]), b = try bin.view([-1, 1, 1]), gr = try grid.view([-1, 1, 1])
        // start + bin_index * bin + (slot + 0.5) * bin / grid
        let pos = try s + bins * b + (slots + 0.5) * b / gr.clamp(min: 1)
        let valid = try slots.binary(.lt, gr).expand(pos.shape)
        return (pos, valid)
    }

    /// Bilinear corners along one axis: low and high indices, their weights and an in-range mask.
    static func axisCorners(_ pos: Tensor, size: Int) throws -> (lo: Tensor, hi: Tensor, wlo: Tensor, whi: Tensor, inside: Tensor) {
        let inside = try pos.binary(.ge, -1.0).binary(.logicalAnd, pos.binary(.le, Double(size)))
        let p = try pos.clamp(min: 0)
        var lo = try p.floor()
        let atEdge = try lo.binary(.ge, Double(size - 1))
        lo = try Tensor.where(atEdge, try Tensor.full([], Double(size - 1), dtype: p.dtype, device: p.device), lo)
        let pClamped = try Tensor.where(atEdge, lo, p)
        let hi = try Tensor.where(atEdge, lo, lo + 1)
        let l = try pClamped - lo
        return (try lo.to(dtype: .int64), try hi.to(dtype: .int64), try 1.0 - l, l, inside)
    }

    static func roiAlignChunk(_ flat: Tensor, _ r: Tensor, _ g: RoiGeometry, n: Int, c: Int, h: Int, w: Int,
                              ph: Int, pw: Int) throws -> Tensor {
        let k = try r.size(0)
        let (ys, vy) = try axisSamples(start: g.startH, bin: g.binH, grid: g.gridH, p: ph, g: g.gh)   // (K, PH, GH)
        let (xs, vx) = try axisSamples(start: g.startW, bin: g.binW, grid: g.gridW, p: pw, g: g.gw)   // (K, PW, GW)
        let cy = try axisCorners(ys, size: h), cx = try axisCorners(xs, size: w)
        // Broadcast to (K, PH, GH, PW, GW).
        func yv(_ t: Tensor) throws -> Tensor { try t.view([k, ph, g.gh, 1, 1]) }
        func xv(_ t: Tensor) throws -> Tensor { try t.view([k, 1, 1, pw, g.gw]) }
        let valid = try (yv(vy).binary(.logicalAnd, xv(vx))).binary(.logicalAnd, yv(cy.inside).binary(.logicalAnd, xv(cx.inside)))
        let base = try g.batch.view([k, 1, 1, 1, 1]).binary(.mul, Double(h * w), integral: true)
        var total: Tensor?
        for (yi, wy) in [(cy.lo, cy.wlo), (cy.hi, cy.whi)] {
            for (xi, wx) in [(cx.lo, cx.wlo), (cx.hi, cx.whi)] {
                let index = try (base + yv(yi).binary(.mul, Double(w), integral: true) + xv(xi)).reshape([-1])
                let weight = try (yv(wy) * xv(wx)) * valid.to(dtype: wy.dtype)
                let values = try flat.indexSelect(0, index).view([k, ph, g.gh, pw, g.gw, c])
                let term = try values * weight.unsqueeze(-1)
                total = try total.map { try $0 + term } ?? term
            }
        }
        let count = try (g.gridH * g.gridW).clamp(min: 1).view([k, 1, 1, 1])
        // Sum the samples of each bin: (K, PH, PW, C), then average and put channels first.
        let summed = try total!.sum(dims: [2, 4])
        return try (summed / count).permute([0, 3, 1, 2]).contiguous()
    }

    // MARK: NMS

    /// Greedy NMS: indices (int64) of kept boxes by decreasing score; a box is dropped when its
    /// IoU with a kept box is > iouThreshold. Equal scores keep the lower index first.
    public static func nms(boxes: Tensor, scores: Tensor, iouThreshold: Double) throws -> Tensor {
        if boxes.device == .cpu && scores.device == .cpu {
            return try Tensor.make { ct_nms(boxes.handle, scores.handle, iouThreshold, $0) }
        }
        return try nmsTensorOps(boxes: boxes, scores: scores, iouThreshold: iouThreshold)
    }

    /// NMS with the IoU matrix computed by tensor ops on the tensors' device; the greedy pass runs
    /// on the CPU over that matrix.
    public static func nmsTensorOps(boxes: Tensor, scores: Tensor, iouThreshold: Double) throws -> Tensor {
        guard boxes.dim == 2, try boxes.size(1) == 4 else { throw TorchError("nms: boxes must be (N, 4), got \(boxes.shape)") }
        let n = try boxes.size(0)
        guard scores.shape == [n] else { throw TorchError("nms: scores must be (N,) for \(n) boxes, got \(scores.shape)") }
        if n == 0 { return try Tensor.zeros([0], dtype: .int64) }
        if try scores.isnan().reduce(.any).item() != 0 { throw TorchError("nms: a score is NaN") }
        if try boxes.isfinite().reduce(.all).item() == 0 { throw TorchError("nms: a box has a NaN or infinite coordinate") }
        let order = try scores.sort(dim: 0, descending: true, stable: true).indices
        let b = try boxes.indexSelect(0, order)
        let x1 = try b.select(1, 0), y1 = try b.select(1, 1), x2 = try b.select(1, 2), y2 = try b.select(1, 3)
        let area = try (x2 - x1) * (y2 - y1)
        let iw = try x2.unsqueeze(1).minimum(x2.unsqueeze(0)) - x1.unsqueeze(1).maximum(x1.unsqueeze(0))
        let ih = try y2.unsqueeze(1).minimum(y2.unsqueeze(0)) - y1.unsqueeze(1).maximum(y1.unsqueeze(0))
        let overlaps = try iw.binary(.gt, 0).binary(.logicalAnd, ih.binary(.gt, 0))
        let inter = try iw.clamp(min: 0) * ih.clamp(min: 0)
        let iou = try inter / (area.unsqueeze(1) + area.unsqueeze(0) - inter)
        let suppress = try iou.binary(.gt, iouThreshold).binary(.logicalAnd, overlaps).to(device: .cpu)
        let matrix = try suppress.toArray(Bool.self)
        let orderCPU = try order.to(device: .cpu).toArray(Int64.self)
        var removed = [Bool](repeating: false, count: n)
        var keep: [Int64] = []
        for i in 0..<n where !removed[i] {
            keep.append(orderCPU[i])
            let row = i * n
            for j in (i + 1)..<Swift.max(i + 1, n) where matrix[row + j] { removed[j] = true }
        }
        return try Tensor(keep)
    }

    /// NMS within each category (idxs): boxes of different categories never suppress each other.
    public static func batchedNMS(boxes: Tensor, scores: Tensor, idxs: Tensor, iouThreshold: Double) throws -> Tensor {
        let n = try boxes.size(0)
        if n == 0 { return try Tensor.zeros([0], dtype: .int64, device: boxes.device) }
        if n > 4000 && boxes.device == .cpu {
            // Many boxes: one NMS per category (quadratic in each category, not in all boxes),
            // then the kept indices by decreasing score, as torchvision does on the CPU.
            let categories = try idxs.to(dtype: .int64).toArray(Int64.self)
            var members: [Int64: [Int64]] = [:]
            for (i, c) in categories.enumerated() { members[c, default: []].append(Int64(i)) }
            var kept: [Tensor] = []
            for c in members.keys.sorted() {
                let index = try Tensor(members[c]!)
                let keep = try nms(boxes: try boxes.indexSelect(0, index), scores: try scores.indexSelect(0, index), iouThreshold: iouThreshold)
                kept.append(try index.indexSelect(0, keep))
            }
            let all = try Tensor.cat(kept)
            let order = try scores.indexSelect(0, all).sort(dim: 0, descending: true, stable: true).indices
            return try all.indexSelect(0, order)
        }
        // Shift each category's boxes far apart so that one NMS pass treats them independently.
        let maxCoordinate = try boxes.max()
        let offsets = try idxs.to(dtype: boxes.dtype) * (maxCoordinate + 1.0)
        let shifted = try boxes + offsets.unsqueeze(1)
        return try nms(boxes: shifted, scores: scores, iouThreshold: iouThreshold)
    }
}
