// Inline icons (no icon font, nothing fetched). Decorative: each is hidden from assistive technology,
// and the control that holds it carries the name.
import type { SVGProps } from 'react';

type IconProps = SVGProps<SVGSVGElement>;

function Svg({ children, ...props }: IconProps) {
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false" {...props}>
      {children}
    </svg>
  );
}

export const CopyIcon = (p: IconProps) => (
  <Svg width="15" height="15" {...p}>
    <rect x="8" y="8" width="12" height="12" rx="2" />
    <path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2" />
  </Svg>
);
export const CheckIcon = (p: IconProps) => (
  <Svg width="15" height="15" {...p}>
    <path d="M5 12l5 5 9-10" />
  </Svg>
);
export const CloseIcon = (p: IconProps) => (
  <Svg width="16" height="16" {...p}>
    <path d="M6 6l12 12M18 6L6 18" />
  </Svg>
);
export const PlusIcon = (p: IconProps) => (
  <Svg width="14" height="14" {...p}>
    <path d="M12 5v14M5 12h14" />
  </Svg>
);
export const ChevronRight = (p: IconProps) => (
  <Svg width="12" height="12" {...p}>
    <path d="M9 6l6 6-6 6" />
  </Svg>
);
export const ChevronDown = (p: IconProps) => (
  <Svg width="14" height="14" {...p}>
    <path d="M6 9l6 6 6-6" />
  </Svg>
);
export const DashboardIcon = (p: IconProps) => (
  <Svg {...p}>
    <rect x="4" y="4" width="6.5" height="6.5" rx="3.2" />
    <rect x="13.5" y="4" width="6.5" height="6.5" rx="3.2" />
    <rect x="4" y="13.5" width="6.5" height="6.5" rx="3.2" />
    <rect x="13.5" y="13.5" width="6.5" height="6.5" rx="3.2" />
  </Svg>
);
export const ShieldIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6z" />
    <path d="M9 12l2 2 4-4" />
  </Svg>
);
export const ApiIcon = (p: IconProps) => (
  <Svg {...p}>
    <rect x="3.5" y="5" width="17" height="14" rx="2" />
    <path d="M3.5 9h17M10 12.5l-2 2 2 2M14 12.5l2 2-2 2" />
  </Svg>
);
export const ActivityIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M4 5h16M4 10h10M4 15h16M4 20h8" />
  </Svg>
);
export const DocIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M6 3h8l4 4v14H6z" />
    <path d="M14 3v4h4M9 12h6M9 16h6" />
  </Svg>
);
export const LogOutIcon = (p: IconProps) => (
  <Svg {...p}>
    <path d="M14 4H6v16h8" />
    <path d="M10 12h10M17 9l3 3-3 3" />
  </Svg>
);
export const HelpIcon = (p: IconProps) => (
  <Svg width="14" height="14" {...p}>
    <circle cx="12" cy="12" r="9" />
    <path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.7.3-1 .8-1 1.5v.4M12 17h.01" />
  </Svg>
);
export const InfoIcon = (p: IconProps) => (
  <Svg width="14" height="14" {...p}>
    <circle cx="12" cy="12" r="9" fill="currentColor" stroke="none" />
    <path d="M12 11v6M12 7.5h.01" stroke="#000" strokeWidth="2.2" />
  </Svg>
);
export const WarningIcon = (p: IconProps) => (
  <Svg width="16" height="16" {...p}>
    <path d="M12 3l10 18H2z" />
    <path d="M12 10v5M12 18h.01" />
  </Svg>
);

/** The round avatar of the top bar and the profile card. */
export const Avatar = ({ size = 28 }: { size?: number }) => (
  <svg width={size} height={size} viewBox="0 0 40 40" aria-hidden="true" focusable="false">
    <circle cx="20" cy="20" r="20" fill="#fcd535" />
    <circle cx="20" cy="16" r="7" fill="#1a1a1a" />
    <path d="M7 34c2.5-6.5 7.5-9.5 13-9.5s10.5 3 13 9.5" fill="#1a1a1a" />
  </svg>
);

/** LBank's empty-box picture, drawn again. */
export const EmptyBox = () => (
  <svg width="64" height="64" viewBox="0 0 64 64" aria-hidden="true" focusable="false">
    <path d="M12 24l20-10 20 10v22L32 56 12 46z" fill="#3a3a3f" />
    <path d="M12 24l20 10 20-10" fill="none" stroke="#5a5a61" strokeWidth="1.5" />
    <path d="M32 34v22" stroke="#5a5a61" strokeWidth="1.5" />
    <path d="M32 34l20-10v22L32 56z" fill="#2b2b30" />
    <path d="M18 36h8M18 41h8" stroke="#6a6a72" strokeWidth="2" />
    <circle cx="32" cy="9" r="4.5" fill="none" stroke="#5a5a61" strokeWidth="1.5" />
  </svg>
);
