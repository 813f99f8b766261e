import Foundation
import Support
import Torch

/// Detectron2's distributed inference: each rank predicts its contiguous shard of a test set
/// (InferenceSampler's split), the predictions are gathered, and every rank evaluates the
/// whole set in dataset order (only rank 0 writes files).
public enum GatherPredictions {
    /// Rank r's images: sizes n / W, the first n % W ranks one more.
    public static func shard(count n: Int, rank: Int, size: Int) -> Range<Int> {
        let base = n / size, extra = n % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// Predictions as bytes: per image its id, size, detections (box, score, class), as doubles.
    static func encode(_ predictions: [Instances]) throws -> [UInt8] {
        var values: [Double] = [Double(predictions.count)]
        for p in predictions {
            let (boxes, scores, classes) = try p.asLists()
            values += [Double(p.imageID ?? -1), Double(p.imageSize.0), Double(p.imageSize.1), Double(scores.count)]
            for i in scores.indices { values += boxes[i] + [scores[i], Double(classes[i])] }
        }
        return values.withUnsafeBytes { Array($0) }
    }

    static func decode(_ bytes: [UInt8]) throws -> [Instances] {
        guard bytes.count % 8 == 0 else { throw DataError("gathered predictions are truncated (\(bytes.count) bytes)") }
        let v = bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        var k = 0
        func next() throws -> Double {
            guard k < v.count else { throw DataError("gathered predictions are truncated") }
            defer { k += 1 }
            return v[k]
        }
        var out: [Instances] = []
        for _ in 0..<Int(try next()) {
            let id = Int64(try next()), h = Int(try next()), w = Int(try next()), n = Int(try next())
            var boxes: [Float] = [], scores: [Float] = [], classes: [Int64] = []
            for _ in 0..<n {
                for _ in 0..<4 { boxes.append(Float(try next())) }
                scores.append(Float(try next()))
                classes.append(Int64(try next()))
            }
            out.append(Instances(imageSize: (h, w), boxes: try Tensor(boxes, shape: [n, 4]), scores: try Tensor(scores, shape: [n]),
                                 classes: try Tensor(classes, shape: [n]), imageID: id))
        }
        return out
    }

    /// Every rank's predictions, in rank order (= dataset order with `shard`).
    public static func gather(_ predictions: [Instances], world: DistributedWorld) throws -> [Instances] {
        try world.allGather(try encode(predictions)).flatMap { try decode($0) }
    }
}
