import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  /** What failed, in the fallback's words ("the player", "the chat"). */
  what: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
}

/** One broken part (player, chat, control room) shows a retry, never a blank page. */
export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`${this.props.what} failed`, error, info.componentStack);
  }

  render() {
    if (this.state.error) {
      return (
        <div className="error-box" role="alert">
          <p>Something went wrong in {this.props.what}.</p>
          <button type="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}
