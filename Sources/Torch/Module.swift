/// A named tensor slot of a module: a learnable parameter or a buffer (running statistics).
/// Modules hold Parameters rather than tensors so that moving to a device or loading a
/// checkpoint can replace the tensor in one place.
public final class Parameter {
    public var tensor: Tensor
    public let isBuffer: Bool

    public init(_ tensor: Tensor, isBuffer: Bool = false) {
        self.tensor = tensor
        self.isBuffer = isBuffer
    }
}

/// A network component with named parameters, buffers and child modules. The dotted names
/// (`backbone.bottom_up.res2.0.conv1.weight`) are the state-dict keys Detectron2 uses.
open class Module {
    public private(set) var ownParameters: [(name: String, slot: Parameter)] = []
    public private(set) var children: [(name: String, module: Module)] = []
    public private(set) var isTraining = true

    public init() {}

    /// Registers a learnable parameter (gradients on).
    @discardableResult
    public func parameter(_ name: String, _ tensor: Tensor) throws -> Parameter {
        try tensor.requiresGrad(true)
        let p = Parameter(tensor)
        try add(name, p)
        return p
    }

    /// Registers a buffer: saved in the state dict, never trained.
    @discardableResult
    public func buffer(_ name: String, _ tensor: Tensor) throws -> Parameter {
        let p = Parameter(tensor, isBuffer: true)
        try add(name, p)
        return p
    }

    /// Registers a slot made before super.init (stored properties first, then registration);
    /// a parameter slot gets gradients turned on.
    public func register(_ name: String, _ p: Parameter) throws {
        if !p.isBuffer { try p.tensor.requiresGrad(true) }
        try add(name, p)
    }

    private func add(_ name: String, _ p: Parameter) throws {
        try checkNewMember(name, kind: "parameter")
        ownParameters.append((name, p))
    }

    /// A member name is one path component, not yet taken by a parameter or a child.
    private func checkNewMember(_ name: String, kind: String) throws {
        guard !name.isEmpty, !name.contains(".") else { throw TorchError("invalid \(kind) name '\(name)'") }
        guard !ownParameters.contains(where: { $0.name == name }) && !children.contains(where: { $0.name == name }) else {
            throw TorchError("\(type(of: self)) already has a member named '\(name)'")
        }
    }

    /// Registers a child module under a name (a number for sequences, as Detectron2 does).
    @discardableResult
    public func child<M: Module>(_ name: String, _ module: M) throws -> M {
        try checkNewMember(name, kind: "module")
        children.append((name, module))
        return module
    }

    /// Every slot with its dotted name, parameters and buffers, depth first in registration order.
    public func namedSlots(prefix: String = "") -> [(name: String, slot: Parameter)] {
        var result = ownParameters.map { (prefix + $0.name, $0.slot) }
        for (name, m) in children { result += m.namedSlots(prefix: prefix + name + ".") }
        return result
    }

    /// This module ("") and every descendant with its dotted path, depth first in registration
    /// order (PyTorch's named_modules).
    public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
        var result = [(prefix, self)]
        for (name, m) in children { result += m.namedModules(prefix: prefix.isEmpty ? name : prefix + "." + name) }
        return result
    }

    public func namedParameters() -> [(name: String, slot: Parameter)] { namedSlots().filter { !$0.slot.isBuffer } }
    public func namedBuffers() -> [(name: String, slot: Parameter)] { namedSlots().filter { $0.slot.isBuffer } }

    /// The state dict: dotted name -> tensor, parameters and buffers.
    public func stateDict() -> [(name: String, tensor: Tensor)] { namedSlots().map { ($0.name, $0.slot.tensor) } }

    /// What loading a state dict did: keys not found in it, keys it had that the model lacks,
    /// and keys whose shapes differ (skipped, as Detectron2 does).
    public struct LoadReport: Equatable {
        public var missing: [String] = []
        public var unexpected: [String] = []
        public var mismatched: [ShapeMismatch] = []
        public var loaded: [String] = []
        /// Those of `loaded` the file held in fp16 or bf16 (converted to the model's fp32).
        public var reduced: [String] = []
    }

    public struct ShapeMismatch: Equatable {
        public var name: String
        public var expected: [Int]
        public var found: [Int]
    }

    /// Copies tensors into the matching slots (keeping each slot's dtype, device and grad flag).
    @discardableResult
    public func load(stateDict: [String: Tensor]) throws -> LoadReport {
        var report = LoadReport()
        let slots = namedSlots()
        let known = Set(slots.map(\.name))
        try noGrad {
            for (name, slot) in slots {
                guard let t = stateDict[name] else { report.missing.append(name); continue }
                if t.shape != slot.tensor.shape {
                    report.mismatched.append(ShapeMismatch(name: name, expected: slot.tensor.shape, found: t.shape))
                    continue
                }
                try slot.tensor.copy_(t)
                report.loaded.append(name)
                if t.dtype == .float16 || t.dtype == .bfloat16 { report.reduced.append(name) }
            }
        }
        report.unexpected = stateDict.keys.filter { !known.contains($0) }.sorted()
        return report
    }

    /// Training mode (dropout, batch statistics); recursive.
    open func train(_ on: Bool = true) {
        isTraining = on
        for (_, m) in children { m.train(on) }
    }

    public func eval() { train(false) }

    /// The element type the convolutions and linear layers compute in: float32 unless a reduced
    /// precision was asked for (`Precision`). Weights and buffers stay float32 whatever it is.
    public private(set) var computeDType: DType = .float32

    /// Sets `computeDType` here and in every descendant; layers drop what they derived from
    /// the old one (`computeDTypeDidChange`).
    public func setComputeDType(_ dtype: DType) {
        if computeDType != dtype {
            computeDType = dtype
            computeDTypeDidChange()
        }
        for (_, m) in children { m.setComputeDType(dtype) }
    }

    /// Called when `computeDType` changes: layers that cache cast weights drop them.
    open func computeDTypeDidChange() {}

    /// Moves every slot to a device (and optionally a dtype for floating-point slots).
    public func to(device: Device, dtype: DType? = nil) throws {
        for (_, slot) in namedSlots() {
            let target = (dtype != nil && slot.tensor.dtype.isFloatingPoint) ? dtype : nil
            let needsGrad = slot.tensor.requiresGrad
            let moved = try noGrad { try slot.tensor.to(dtype: target, device: device) }
            if moved !== slot.tensor {
                if needsGrad { try moved.requiresGrad(true) }
                slot.tensor = moved
            }
        }
    }

    /// Turns gradients off for every parameter (frozen layers).
    public func freeze() throws {
        for (_, slot) in namedParameters() { try slot.tensor.requiresGrad(false) }
    }
}
