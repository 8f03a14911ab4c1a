using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    internal static partial class Native
    {
        // drill.h

        /// <summary>Start a restore drill of the newest recovery point as a job.</summary>
        internal static JobInfo DrillStart(AgentHandle agent)
        {
            return TakeJob((out IntPtr p) => NativeMethods.ob_drill_start(out p, agent));
        }

        /// <summary>The drill schedule and the last drill's outcome.</summary>
        internal static DrillInfo DrillGet(AgentHandle agent)
        {
            return Take((out IntPtr p) => NativeMethods.ob_drill_get(out p, agent), NativeMethods.ob_drill_info_free, ReadDrill);
        }

        /// <summary>Set the drill schedule (days mask, minutes after midnight); no days and no times remove it.</summary>
        internal static void DrillScheduleSet(AgentHandle agent, uint days, int[] times)
        {
            int[] t = times ?? new int[0];
            Check(NativeMethods.ob_drill_schedule_set(agent, days, t.Length == 0 ? null : t, new UIntPtr((uint)t.Length)));
        }

        private static DrillInfo ReadDrill(IntPtr p)
        {
            var raw = Marshal.PtrToStructure<ObDrillInfoNative>(p);
            return new DrillInfo
            {
                Scheduled = raw.scheduled != 0,
                Days = raw.days,
                Times = TimesOf(raw.times, raw.time_count),
                NextRun = raw.next_run,
                LastJobId = Utf8.FromNative(raw.last_job_id),
                LastState = raw.last_state,
                LastTime = raw.last_time,
                LastMessage = Utf8.FromNative(raw.last_message),
                SampleFiles = raw.sample_files,
                SampleBytes = raw.sample_bytes,
            };
        }
    }
}
