using k8s.Models;

namespace AppHost.Tests.Deployment;

/// <summary>
/// Kubernetes' Pod Security Standard "restricted" (the baseline's controls and the restricted ones, as the
/// pod-security admission of Kubernetes 1.35 enforces them: kubernetes.io/docs/concepts/security/pod-security-standards),
/// applied to one pod template. Every violation is returned, named by control, so a failure lists them all.
/// </summary>
internal static class PodSecurityRestricted
{
    private static readonly HashSet<string> AllowedVolumeTypes =
        ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

    private static readonly HashSet<string> AllowedSeLinuxTypes = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

    private static readonly HashSet<string> SafeSysctls =
    [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
    ];

    public static List<string> Violations(V1PodSpec pod)
    {
        var found = new List<string>();
        var podContext = pod.SecurityContext;
        // Baseline: host namespaces, host paths and ports, privilege, capabilities, SELinux, /proc, sysctls, AppArmor.
        if (pod.HostNetwork == true || pod.HostPID == true || pod.HostIPC == true)
        {
            found.Add("host namespaces: hostNetwork, hostPID and hostIPC must be unset or false");
        }
        if (podContext?.WindowsOptions?.HostProcess == true)
        {
            found.Add("HostProcess: windowsOptions.hostProcess must not be true");
        }
        foreach (var sysctl in podContext?.Sysctls ?? [])
        {
            if (!SafeSysctls.Contains(sysctl.Name))
            {
                found.Add($"sysctls: {sysctl.Name} is not in the safe set");
            }
        }
        CheckSeLinux(podContext?.SeLinuxOptions, "pod", found);
        CheckAppArmor(podContext?.AppArmorProfile, "pod", found);
        foreach (var volume in pod.Volumes ?? [])
        {
            var type = VolumeType(volume);
            if (!AllowedVolumeTypes.Contains(type))
            {
                found.Add($"volume types: {volume.Name} is {type} (restricted allows {string.Join(", ", AllowedVolumeTypes.Order())})");
            }
        }

        var podNonRoot = podContext?.RunAsNonRoot == true;
        var podSeccomp = IsRestrictedSeccomp(podContext?.SeccompProfile);
        if (podContext?.RunAsUser == 0)
        {
            found.Add("running as non-root user: the pod's runAsUser is 0");
        }
        if (podContext?.SeccompProfile?.Type == "Unconfined")
        {
            found.Add("seccomp: the pod's profile is Unconfined");
        }
        foreach (var container in (pod.InitContainers ?? []).Concat(pod.Containers))
        {
            var where = container.Name;
            var context = container.SecurityContext;
            if (context?.Privileged == true)
            {
                found.Add($"privileged containers: {where} is privileged");
            }
            if (context?.WindowsOptions?.HostProcess == true)
            {
                found.Add($"HostProcess: {where}");
            }
            if ((container.Ports ?? []).Any(p => p.HostPort is > 0))
            {
                found.Add($"host ports: {where} binds a host port");
            }
            if (context?.ProcMount is { } procMount && procMount != "Default")
            {
                found.Add($"/proc mount type: {where} has {procMount}");
            }
            CheckSeLinux(context?.SeLinuxOptions, where, found);
            CheckAppArmor(context?.AppArmorProfile, where, found);
            // Restricted: no escalation, non-root, seccomp, capabilities.
            if (context?.AllowPrivilegeEscalation != false)
            {
                found.Add($"privilege escalation: {where} must set allowPrivilegeEscalation: false");
            }
            if (!(context?.RunAsNonRoot ?? podNonRoot))
            {
                found.Add($"running as non-root: {where} has runAsNonRoot neither on itself nor on the pod");
            }
            if (context?.RunAsUser == 0)
            {
                found.Add($"running as non-root user: {where} has runAsUser 0");
            }
            if (context?.SeccompProfile is { } seccomp ? !IsRestrictedSeccomp(seccomp) : !podSeccomp)
            {
                found.Add($"seccomp: {where} has no RuntimeDefault or Localhost profile, on itself or on the pod");
            }
            if (!(context?.Capabilities?.Drop ?? []).Contains("ALL"))
            {
                found.Add($"capabilities: {where} must drop ALL");
            }
            foreach (var added in context?.Capabilities?.Add ?? [])
            {
                if (added != "NET_BIND_SERVICE")
                {
                    found.Add($"capabilities: {where} adds {added} (restricted allows NET_BIND_SERVICE only)");
                }
            }
        }
        return found;
    }

    private static bool IsRestrictedSeccomp(V1SeccompProfile? profile) => profile?.Type is "RuntimeDefault" or "Localhost";

    private static void CheckSeLinux(V1SELinuxOptions? options, string where, List<string> found)
    {
        if (options is null)
        {
            return;
        }
        if (!AllowedSeLinuxTypes.Contains(options.Type ?? ""))
        {
            found.Add($"SELinux: {where} has type {options.Type}");
        }
        if (!string.IsNullOrEmpty(options.User) || !string.IsNullOrEmpty(options.Role))
        {
            found.Add($"SELinux: {where} sets a user or role");
        }
    }

    private static void CheckAppArmor(V1AppArmorProfile? profile, string where, List<string> found)
    {
        if (profile?.Type is { } type && type is not ("RuntimeDefault" or "Localhost"))
        {
            found.Add($"AppArmor: {where} has {type}");
        }
    }

    /// <summary>The volume's source, as the standard names it.</summary>
    private static string VolumeType(V1Volume volume) => volume switch
    {
        { ConfigMap: not null } => "configMap",
        { Csi: not null } => "csi",
        { DownwardAPI: not null } => "downwardAPI",
        { EmptyDir: not null } => "emptyDir",
        { Ephemeral: not null } => "ephemeral",
        { PersistentVolumeClaim: not null } => "persistentVolumeClaim",
        { Projected: not null } => "projected",
        { Secret: not null } => "secret",
        { HostPath: not null } => "hostPath",
        _ => "another source",
    };
}
