using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>
    /// A pointer to a native object owned by managed code; NULL is invalid. Each kind below says
    /// only which ob_*_free releases it (the marshaller makes them for out parameters).
    /// </summary>
    internal abstract class NativeHandle : SafeHandle
    {
        protected NativeHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
    }

    /// <summary>An ob_vault* owned by managed code; released with ob_vault_free.</summary>
    internal sealed class VaultHandle : NativeHandle
    {
        protected override bool ReleaseHandle()
        {
            NativeMethods.ob_vault_free(handle);
            return true;
        }
    }

    /// <summary>An ob_agent* owned by managed code; released with ob_agent_free.</summary>
    internal sealed class AgentHandle : NativeHandle
    {
        protected override bool ReleaseHandle()
        {
            NativeMethods.ob_agent_free(handle);
            return true;
        }
    }

    /// <summary>An ob_policy* (a committed policy, read-only) owned by managed code; released with ob_policy_free.</summary>
    internal sealed class PolicyHandle : NativeHandle
    {
        protected override bool ReleaseHandle()
        {
            NativeMethods.ob_policy_free(handle);
            return true;
        }
    }

    /// <summary>An ob_recovery* (a recovery session over one server's backups); released with ob_recovery_free.</summary>
    internal sealed class RecoveryHandle : NativeHandle
    {
        protected override bool ReleaseHandle()
        {
            NativeMethods.ob_recovery_free(handle);
            return true;
        }
    }
}
