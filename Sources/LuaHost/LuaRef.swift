import CLua

/// A strong reference from Swift to any Lua value, kept in the Lua registry.
/// Released when the Swift side lets go; harmless after the state has closed.
public final class LuaRef: @unchecked Sendable {
    let lifetime: LuaLifetime
    let ref: Int32

    init(state: LuaState, popFrom L: OpaquePointer) {
        self.lifetime = state.lifetime
        self.ref = luaL_ref(L, lh_registryindex())
    }

    /// Pushes the referenced value onto L's stack.
    public func push(_ L: OpaquePointer) {
        _ = lh_getref(L, ref)
    }

    deinit {
        if lifetime.isOpen {
            luaL_unref(lifetime.L, lh_registryindex(), ref)
        }
    }
}

/// Tells references whether their state is still open. (A weak reference to LuaState would
/// do the same, but would move LuaState's reference counts to a slow side table.)
final class LuaLifetime {
    let L: OpaquePointer
    var isOpen = true
    init(L: OpaquePointer) { self.L = L }
}
